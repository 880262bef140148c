with

statistics as (

    select * from {{ ref('int_statistics_deduplicated') }}

),

articles as (

    select * from {{ ref('int_articles_dated') }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

money_statistics as (

    select
        statistics.statistic_id,
        statistics.article_id,
        statistics.metric,
        statistics.value,
        statistics.qualifier,
        statistics.currency,
        articles.published_date,
        articles.has_published_date,
        articles.reported_year as rate_year

    from statistics
    inner join articles
        on statistics.article_id = articles.article_id
    where
        statistics.metric in ('price', 'amount')
        and statistics.currency is not null

),

converted as (

    select
        money_statistics.statistic_id,
        money_statistics.article_id,
        money_statistics.metric,
        money_statistics.value,
        money_statistics.qualifier,
        money_statistics.currency,
        money_statistics.published_date,
        money_statistics.has_published_date,
        money_statistics.rate_year,
        round(
            case
                when money_statistics.currency = 'EUR' then money_statistics.value
                else money_statistics.value * exchange_rates.eur_per_unit
            end,
            2
        ) as value_eur,
        round(
            case
                when money_statistics.currency = 'USD' then money_statistics.value
                else money_statistics.value * exchange_rates.usd_per_unit
            end,
            2
        ) as value_usd,
        exchange_rates.source as rate_source

    from money_statistics
    left join exchange_rates
        on
            money_statistics.rate_year = exchange_rates.year
            and money_statistics.currency = exchange_rates.currency

)

select * from converted
