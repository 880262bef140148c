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
        articles.reported_year

    from statistics
    inner join articles
        on statistics.article_id = articles.article_id
    where
        statistics.metric in ('price', 'amount')
        and statistics.currency is not null

),

-- The year whose rate converts each sum: its reported year when the seed has it, else the
-- nearest year before (the current year, whose average is not out yet), else the first
-- year after (a story older than the seed).
rate_years as (

    select
        money_statistics.statistic_id,
        coalesce(
            max(exchange_rates.year) filter (
                where exchange_rates.year <= money_statistics.reported_year
            ),
            min(exchange_rates.year)
        ) as rate_year

    from money_statistics
    inner join exchange_rates
        on money_statistics.currency = exchange_rates.currency
    group by money_statistics.statistic_id

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
        money_statistics.reported_year,
        rate_years.rate_year,
        coalesce(rate_years.rate_year = money_statistics.reported_year, false)
            as is_rate_of_reported_year,
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
    left join rate_years
        on money_statistics.statistic_id = rate_years.statistic_id
    left join exchange_rates
        on
            rate_years.rate_year = exchange_rates.year
            and money_statistics.currency = exchange_rates.currency

)

select * from converted
