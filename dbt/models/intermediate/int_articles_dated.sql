-- One row per article with the date it is counted under: its published_date, or, when the
-- text gives none, the UTC date its document was landed. Every time series (fct_prices'
-- rate year, the agg_* marts) takes its period from here, so the rule lives in one place.

with

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

documents as (

    select * from {{ ref('stg_lake__documents') }}

),

articles_with_landed_date as (

    select
        articles.article_id,
        articles.doc_id,
        articles.is_relevant and not articles.is_duplicate as is_in_scope,
        articles.published_date,
        cast(timezone('UTC', documents.landed_at) as date) as landed_date

    from articles
    left join documents
        on articles.doc_id = documents.doc_id

),

dated as (

    select
        article_id,
        doc_id,
        is_in_scope,
        published_date,
        landed_date,
        published_date is not null as has_published_date,
        coalesce(published_date, landed_date) as reported_date,
        cast(date_trunc('month', coalesce(published_date, landed_date)) as date) as reported_month,
        cast(year(coalesce(published_date, landed_date)) as integer) as reported_year

    from articles_with_landed_date

)

select * from dated
