with

countries as (

    select * from {{ ref('countries') }}

),

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

article_counts as (

    select
        entities.entity_id as country_id,
        count(*) as article_count,
        count(distinct article_incidents.incident_id) filter (
            where entities.is_in_scope
        ) as incident_count

    from entities
    left join article_incidents
        on entities.article_id = article_incidents.article_id
    where entities.entity_type = 'country'
    group by entities.entity_id

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
