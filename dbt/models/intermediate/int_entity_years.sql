-- One row per entity (agency, country, operation, crime type) and year in which an article
-- names it: the agg_*_year marts are its rows of one entity type.

{%- set pivoted_metrics = var('pivoted_metrics') %}

with

entities as (

    select * from {{ ref('bridge_article_entities') }}

),

articles as (

    select * from {{ ref('int_articles_dated') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

entity_articles as (

    select
        entities.entity_type,
        entities.entity_id,
        articles.reported_year,
        entities.article_id,
        articles.is_in_scope,
        articles.has_published_date,
        {%- for metric in pivoted_metrics %}
        incidents.{{ metric }},
        {%- endfor %}
        incidents.statistic_count

    from entities
    inner join articles
        on entities.article_id = articles.article_id
    left join incidents
        on entities.article_id = incidents.article_id

),

aggregated as (

    select
        entity_type,
        entity_id,
        reported_year,
        count(*) as article_count,
        count(*) filter (where is_in_scope) as incident_count,
        count(*) filter (where not has_published_date) as undated_article_count,
        {%- for metric in pivoted_metrics %}
        sum({{ metric }}) as {{ metric }},
        {%- endfor %}
        cast(coalesce(sum(statistic_count), 0) as bigint) as statistic_count

    from entity_articles
    group by entity_type, entity_id, reported_year

)

select * from aggregated
