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

agency_articles as (

    select
        entities.entity_id as agency_id,
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
    where entities.entity_type = 'agency'

),

aggregated as (

    select
        agency_id,
        reported_year,
        count(*) as article_count,
        count(*) filter (where is_in_scope) as incident_count,
        count(*) filter (where not has_published_date) as undated_article_count,
        {%- for metric in pivoted_metrics %}
        sum({{ metric }}) as {{ metric }},
        {%- endfor %}
        cast(coalesce(sum(statistic_count), 0) as bigint) as statistic_count

    from agency_articles
    group by agency_id, reported_year

)

select * from aggregated
