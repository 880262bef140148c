-- One row per entity (agency, country, operation, crime type) and year in which an article
-- names it: the agg_*_year marts are its rows of one entity type. An incident counts once,
-- in the year of its first report, with its reconciled figures (fct_incidents), however
-- many of its articles name the entity; its articles count in that year too, and an article
-- of no incident in the year it was reported.

{%- set pivoted_metrics = var('pivoted_metrics') %}

with

entities as (

    select * from {{ ref('bridge_article_entities') }}

),

articles as (

    select * from {{ ref('int_articles_dated') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

incident_years as (

    select
        article_incidents.incident_id,
        cast(year(min(articles.reported_date)) as integer) as reported_year

    from article_incidents
    inner join articles
        on article_incidents.article_id = articles.article_id
    group by article_incidents.incident_id

),

-- An article of an incident counts in the incident's year, so each row's incidents are
-- named by articles of that row.
article_years as (

    select
        entities.entity_type,
        entities.entity_id,
        coalesce(incident_years.reported_year, articles.reported_year) as reported_year,
        count(*) as article_count,
        count(*) filter (where not articles.has_published_date) as undated_article_count

    from entities
    inner join articles
        on entities.article_id = articles.article_id
    left join article_incidents
        on entities.article_id = article_incidents.article_id
    left join incident_years
        on article_incidents.incident_id = incident_years.incident_id
    group by all

),

entity_incidents as (

    select distinct
        entities.entity_type,
        entities.entity_id,
        article_incidents.incident_id

    from entities
    inner join article_incidents
        on entities.article_id = article_incidents.article_id

),

incident_sums as (

    select
        entity_incidents.entity_type,
        entity_incidents.entity_id,
        incident_years.reported_year,
        count(*) as incident_count,
        {%- for metric in pivoted_metrics %}
            sum(incidents.{{ metric }}) as {{ metric }},
        {%- endfor %}
        cast(coalesce(sum(incidents.statistic_count), 0) as bigint) as statistic_count

    from entity_incidents
    inner join incident_years
        on entity_incidents.incident_id = incident_years.incident_id
    inner join incidents
        on entity_incidents.incident_id = incidents.incident_id
    group by entity_incidents.entity_type, entity_incidents.entity_id, incident_years.reported_year

),

aggregated as (

    select
        coalesce(article_years.entity_type, incident_sums.entity_type) as entity_type,
        coalesce(article_years.entity_id, incident_sums.entity_id) as entity_id,
        coalesce(article_years.reported_year, incident_sums.reported_year) as reported_year,
        coalesce(article_years.article_count, 0) as article_count,
        coalesce(incident_sums.incident_count, 0) as incident_count,
        coalesce(article_years.undated_article_count, 0) as undated_article_count,
        {%- for metric in pivoted_metrics %}
            incident_sums.{{ metric }},
        {%- endfor %}
        coalesce(incident_sums.statistic_count, 0) as statistic_count

    from article_years
    full outer join incident_sums
        on article_years.entity_type = incident_sums.entity_type
            and article_years.entity_id = incident_sums.entity_id
            and article_years.reported_year = incident_sums.reported_year

)

select * from aggregated
