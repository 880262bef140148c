-- Figures per month, crime type and metric, each incident's figure counted once: a figure
-- (metric, value, currency) that several articles of one incident repeat is one figure. The
-- month is that of the incident's first report.

with

statistics as (

    select * from {{ ref('fct_statistics') }}

),

prices as (

    select * from {{ ref('fct_prices') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

articles as (

    select * from {{ ref('int_articles_dated') }}

),

incident_months as (

    select
        article_incidents.incident_id,
        min(articles.reported_month) as reported_month

    from article_incidents
    inner join articles
        on article_incidents.article_id = articles.article_id
    group by article_incidents.incident_id

),

incident_figures as (

    select
        article_incidents.incident_id,
        statistics.statistic_id,
        statistics.article_id,
        statistics.metric,
        statistics.value,
        articles.has_published_date,
        prices.value_eur

    from statistics
    inner join article_incidents
        on statistics.article_id = article_incidents.article_id
    inner join articles
        on statistics.article_id = articles.article_id
    left join prices
        on statistics.statistic_id = prices.statistic_id
    qualify row_number() over (
            partition by
                article_incidents.incident_id,
                statistics.metric,
                statistics.value,
                statistics.currency
            order by statistics.article_id, statistics.statistic_id
        ) = 1

),

incident_crime_types as (

    select
        incident_id,
        unnest(crime_types) as crime_type_id

    from incidents

),

figures_by_crime_type as (

    select
        incident_months.reported_month,
        incident_crime_types.crime_type_id,
        incident_figures.*

    from incident_figures
    inner join incident_crime_types
        on incident_figures.incident_id = incident_crime_types.incident_id
    inner join incident_months
        on incident_figures.incident_id = incident_months.incident_id

),

aggregated as (

    select
        reported_month,
        crime_type_id,
        metric,
        count(*) as figure_count,
        count(distinct incident_id) as incident_count,
        count(distinct article_id) as article_count,
        count(distinct article_id) filter (where not has_published_date) as undated_article_count,
        case when metric in ('price', 'amount') then null else sum(value) end as total_value,
        sum(value_eur) as total_value_eur

    from figures_by_crime_type
    group by reported_month, crime_type_id, metric

)

select * from aggregated
