-- The incident of every article that has one: an in-scope article's own link, and for a copy
-- of an in-scope article (is_duplicate) the incident of the article it copies.

with

links as (

    select * from {{ ref('stg_lake__incident_links') }}

),

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

linked_articles as (

    select
        articles.article_id,
        coalesce(own.incident_id, original.incident_id) as incident_id,
        articles.is_duplicate,
        own.matched_article_id,
        own.similarity,
        own.date_gap_days,
        coalesce(own.shared_keys, cast([] as varchar[])) as shared_keys,
        own.event_date

    from articles
    left join links as own
        on articles.article_id = own.article_id
    left join links as original
        on articles.duplicate_of_article_id = original.article_id

)

select * from linked_articles
where incident_id is not null
