{%- set pivoted_metrics = var('pivoted_metrics') %}

with

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

statistics as (

    select * from {{ ref('int_statistics_pivoted') }}

),

entities as (

    select * from {{ ref('int_article_entities_aggregated') }}

),

in_scope_articles as (

    select * from articles
    where is_relevant and not is_duplicate

),

incidents as (

    select
        in_scope_articles.article_id,
        in_scope_articles.doc_id,
        in_scope_articles.published_date,
        in_scope_articles.title,
        in_scope_articles.language,
        in_scope_articles.source_file,
        coalesce(entities.agencies, cast([] as varchar[])) as agencies,
        coalesce(entities.countries, cast([] as varchar[])) as countries,
        coalesce(entities.operations, cast([] as varchar[])) as operations,
        list_sort(in_scope_articles.crime_types) as crime_types,
        {%- for metric in pivoted_metrics %}
        statistics.{{ metric }},
        {%- endfor %}
        coalesce(statistics.statistic_count, 0) as statistic_count

    from in_scope_articles
    left join statistics
        on in_scope_articles.article_id = statistics.article_id
    left join entities
        on in_scope_articles.article_id = entities.article_id

)

select * from incidents
