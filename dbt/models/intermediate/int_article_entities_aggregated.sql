-- One row per article that names at least one entity: the distinct, sorted ids of the
-- agencies, countries and operations it names (null for a kind it names none of).

with

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

aggregated as (

    select
        article_id,
        list(entity_id order by entity_id) filter (where entity_type = 'agency') as agencies,
        list(entity_id order by entity_id) filter (where entity_type = 'country') as countries,
        list(entity_id order by entity_id) filter (
            where entity_type = 'operation'
        ) as operations

    from entities
    group by article_id

)

select * from aggregated
