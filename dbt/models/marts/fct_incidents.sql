-- One row per incident: the in-scope articles that report one real-world event (matched in
-- the lake, tracelake/incidents.py), with when it happened (the event date most of its
-- articles give) and was reported, who, where, what kind of
-- crime (the union over its articles) and each counted figure reconciled across its
-- articles (fct_incident_figures). Copies of an article are not counted as reports.

{%- set pivoted_metrics = var('pivoted_metrics') %}

with

bridge as (

    select * from {{ ref('bridge_incident_articles') }}

),

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

figures as (

    select * from {{ ref('fct_incident_figures') }}

),

statistics as (

    select * from {{ ref('int_statistics_deduplicated') }}

),

reports as (

    select * from bridge
    where not is_duplicate

),

incident_articles as (

    select
        reports.incident_id,
        count(*) as article_count,
        min(reports.published_date) as first_reported_date,
        max(reports.published_date) as last_reported_date,
        list(distinct reports.language order by reports.language)
        filter (where reports.language is not null) as languages,
        list_sort(list_distinct(flatten(list(articles.crime_types)))) as crime_types

    from reports
    inner join articles
        on reports.article_id = articles.article_id
    group by reports.incident_id

),

event_dates as (

    select
        incident_id,
        event_date,
        count(*) as articles_giving_it

    from reports
    where event_date is not null
    group by incident_id, event_date

),

incident_event_dates as (

    select
        incident_id,
        event_date

    from event_dates
    qualify row_number() over (
            partition by incident_id order by articles_giving_it desc, event_date asc
        ) = 1

),

founding_titles as (

    select
        reports.incident_id,
        articles.title

    from reports
    inner join articles
        on reports.article_id = articles.article_id
    where reports.is_founding_article

),

incident_entities as (

    select
        reports.incident_id,
        list(distinct entities.entity_id order by entities.entity_id)
        filter (where entities.entity_type = 'agency') as agencies,
        list(distinct entities.entity_id order by entities.entity_id)
        filter (where entities.entity_type = 'country') as countries,
        list(distinct entities.entity_id order by entities.entity_id)
        filter (where entities.entity_type = 'operation') as operations

    from reports
    inner join entities
        on reports.article_id = entities.article_id
    group by reports.incident_id

),

incident_figures as (

    select
        incident_id,
        {%- for metric in pivoted_metrics %}
            max(value) filter (where metric = '{{ metric }}') as {{ metric }},
        {%- endfor %}
        bool_or(has_disagreement) as has_disagreement,
        bool_or(is_update) as has_update

    from figures
    group by incident_id

),

statistic_counts as (

    select
        reports.incident_id,
        -- distinct figures: the (metric, value, currency) row, not each column on its own
        count(distinct (statistics.metric, statistics.value, statistics.currency)) as statistic_count  -- noqa: ST08, LT01, LT05, LT06

    from reports
    inner join statistics
        on reports.article_id = statistics.article_id
    group by reports.incident_id

),

incidents as (

    select
        incident_articles.incident_id,
        founding_titles.title,
        incident_event_dates.event_date,
        incident_articles.first_reported_date,
        incident_articles.last_reported_date,
        incident_articles.article_count,
        coalesce(incident_articles.languages, cast([] as varchar[])) as languages,
        coalesce(incident_entities.agencies, cast([] as varchar[])) as agencies,
        coalesce(incident_entities.countries, cast([] as varchar[])) as countries,
        coalesce(incident_entities.operations, cast([] as varchar[])) as operations,
        incident_articles.crime_types,
        {%- for metric in pivoted_metrics %}
            incident_figures.{{ metric }},
        {%- endfor %}
        coalesce(incident_figures.has_disagreement, false) as has_disagreement,
        coalesce(incident_figures.has_update, false) as has_update,
        coalesce(statistic_counts.statistic_count, 0) as statistic_count

    from incident_articles
    inner join founding_titles
        on incident_articles.incident_id = founding_titles.incident_id
    left join incident_event_dates
        on incident_articles.incident_id = incident_event_dates.incident_id
    left join incident_entities
        on incident_articles.incident_id = incident_entities.incident_id
    left join incident_figures
        on incident_articles.incident_id = incident_figures.incident_id
    left join statistic_counts
        on incident_articles.incident_id = statistic_counts.incident_id

)

select * from incidents
