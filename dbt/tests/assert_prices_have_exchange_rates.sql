-- Sums of money in a currency the exchange_rates seed has no rate for: their value_eur /
-- value_usd are null. A warning, not an error: the run goes on and the count says how many
-- (the currency belongs in the seed).

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
        reported_year,
        has_published_date,
        value,
        value_eur,
        value_usd

    from prices
    where rate_source is null

)

select * from prices_without_rate
