with

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

statistics as (

    select * from {{ ref('int_statistics_deduplicated') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

statistic_counts as (

    select
        article_id,
        count(*) as statistic_count

    from statistics
    group by article_id

),

articles_with_counts as (

    select
        articles.article_id,
        articles.doc_id,
        articles.source_file,
        articles.article_index,
        articles.title,
        articles.published_date,
        articles.date_source,
        articles.reader,
        articles.url,
        articles.language,
        articles.is_relevant,
        articles.relevance_reason,
        list_sort(articles.crime_types) as crime_types,
        articles.duplicate_of_article_id,
        articles.is_duplicate,
        article_incidents.incident_id,
        articles.char_start,
        articles.char_end,
        coalesce(statistic_counts.statistic_count, 0) as statistic_count

    from articles
    left join statistic_counts
        on articles.article_id = statistic_counts.article_id
    left join article_incidents
        on articles.article_id = article_incidents.article_id

)

select * from articles_with_counts
