-- Which articles report which incident, and why each was joined to it: the article it was
-- matched to, their similarity, the days between them and the keys they share. Copies of an
-- in-scope article (is_duplicate) follow the article they copy.

with

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

bridged as (

    select
        article_incidents.incident_id,
        article_incidents.article_id,
        articles.published_date,
        articles.source_file,
        articles.language,
        article_incidents.is_duplicate,
        'inc-' || article_incidents.article_id
        = article_incidents.incident_id as is_founding_article,
        article_incidents.matched_article_id,
        article_incidents.similarity,
        article_incidents.date_gap_days,
        article_incidents.shared_keys,
        article_incidents.event_date

    from article_incidents
    inner join articles
        on article_incidents.article_id = articles.article_id

)

select * from bridged
