with

crime_types as (

    select * from {{ ref('crime_types') }}

),

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

article_counts as (

    select
        entities.entity_id as crime_type_id,
        count(*) as article_count,
        count(distinct article_incidents.incident_id) filter (
            where entities.is_in_scope
        ) as incident_count

    from entities
    left join article_incidents
        on entities.article_id = article_incidents.article_id
    where entities.entity_type = 'crime_type'
    group by entities.entity_id

),

crime_types_with_counts as (

    select
        crime_types.crime_type_id,
        crime_types.name,
        crime_types.description,
        coalesce(article_counts.article_count, 0) as article_count,
        coalesce(article_counts.incident_count, 0) as incident_count

    from crime_types
    left join article_counts
        on crime_types.crime_type_id = article_counts.crime_type_id

)

select * from crime_types_with_counts
