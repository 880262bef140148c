-- A figure should lie inside the span of the article it is credited to. A warning, not an
-- error: it flags a segmenter or extractor slip without stopping the run.

{{ config(severity='warn') }}

with

articles as (

    select * from {{ ref('dim_articles') }}

),

statistics as (

    select * from {{ ref('fct_statistics') }}

),

statistics_outside_article as (

    select
        statistics.statistic_id,
        statistics.article_id,
        statistics.char_start,
        statistics.char_end,
        articles.char_start as article_char_start,
        articles.char_end as article_char_end

    from statistics
    inner join articles
        on statistics.article_id = articles.article_id
    where
        statistics.char_start < articles.char_start
        or statistics.char_end > articles.char_end

)

select * from statistics_outside_article
