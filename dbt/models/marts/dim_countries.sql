with

countries as (

    select * from {{ ref('countries') }}

),

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

article_counts as (

    select
        entity_id as country_id,
        count(*) as article_count,
        count(*) filter (where is_in_scope) as incident_count

    from entities
    where entity_type = 'country'
    group by entity_id

),

countries_with_counts as (

    select
        countries.country_id,
        countries.alpha_3,
        countries.name,
        countries.region,
        countries.subregion,
        coalesce(article_counts.article_count, 0) as article_count,
        coalesce(article_counts.incident_count, 0) as incident_count

    from countries
    left join article_counts
        on countries.country_id = article_counts.country_id

)

select * from countries_with_counts
