-- Sums of money whose currency and year have no annual average rate in the exchange_rates
-- seed: their value_eur / value_usd are null. A warning, not an error: the run goes on and
-- the count says how many (a new year's rates, or a new currency, belong in the seed).

{{ config(severity='warn') }}

with

prices as (

    select * from {{ ref('fct_prices') }}

),

prices_without_rate as (

    select
        statistic_id,
        article_id,
        currency,
        rate_year,
        has_published_date,
        value,
        value_eur,
        value_usd

    from prices
    where rate_source is null

)

select * from prices_without_rate
