with

statistics as (

    select * from {{ ref('fct_statistics') }}

),

prices as (

    select * from {{ ref('fct_prices') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

articles as (

    select * from {{ ref('int_articles_dated') }}

),

incident_crime_types as (

    select
        article_id,
        unnest(crime_types) as crime_type_id

    from incidents

),

statistics_by_crime_type as (

    select
        articles.reported_month,
        incident_crime_types.crime_type_id,
        statistics.metric,
        statistics.value,
        statistics.article_id,
        articles.has_published_date,
        prices.value_eur

    from statistics
    inner join incident_crime_types
        on statistics.article_id = incident_crime_types.article_id
    inner join articles
        on statistics.article_id = articles.article_id
    left join prices
        on statistics.statistic_id = prices.statistic_id

),

aggregated as (

    select
        reported_month,
        crime_type_id,
        metric,
        count(*) as figure_count,
        count(distinct article_id) as article_count,
        count(distinct article_id) filter (where not has_published_date) as undated_article_count,
        case when metric in ('price', 'amount') then null else sum(value) end as total_value,
        sum(value_eur) as total_value_eur

    from statistics_by_crime_type
    group by reported_month, crime_type_id, metric

)

select * from aggregated
