-- What smugglers charge a person, per country the article names, in euros at the annual
-- average rate of the article's year (prices without a rate are counted, not priced).
with

smuggling_prices as (

    select
        prices.statistic_id,
        prices.value_eur,
        entities.entity_id as country_id

    from marts.fct_prices as prices
    inner join marts.dim_articles as articles
        on prices.article_id = articles.article_id
    inner join marts.bridge_article_entities as entities
        on prices.article_id = entities.article_id
    where
        prices.metric = 'price'
        and list_contains(articles.crime_types, 'migrant_smuggling')
        and entities.entity_type = 'country'

)

select
    countries.name as country,
    smuggling_prices.country_id,
    count(*) as price_count,
    count(smuggling_prices.value_eur) as priced_in_eur,
    min(smuggling_prices.value_eur) as min_price_eur,
    median(smuggling_prices.value_eur) as median_price_eur,
    max(smuggling_prices.value_eur) as max_price_eur

from smuggling_prices
inner join marts.dim_countries as countries
    on smuggling_prices.country_id = countries.country_id
group by countries.name, smuggling_prices.country_id
order by max_price_eur desc nulls last, smuggling_prices.country_id
