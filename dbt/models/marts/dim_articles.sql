-- Incremental: a build that starts from a copy of the published warehouse (the pipeline's,
-- when the lake has only gained rows since: tracelake/stages.py, added_since) adds the
-- articles added since, and gives the articles it already holds the incident the lake links
-- them to now (as another matcher version would link them anew); every other build makes
-- the table whole.
-- depends_on: {{ ref('stg_lake__articles_added') }}, {{ ref('stg_lake__statistics_added') }}
{{
    config(
        materialized='incremental',
        unique_key='article_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

articles as (

    {% if is_incremental() %}
        select * from {{ ref('stg_lake__articles_added') }}
    {% else %}
        select * from {{ ref('stg_lake__articles') }}
    {% endif %}

),

statistics as (

    {% if is_incremental() %}
        {{ in_scope_statistics(ref('stg_lake__statistics_added'), ref('stg_lake__articles')) }}
    {% else %}
        select * from {{ ref('int_statistics_deduplicated') }}
    {% endif %}

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

),

-- the articles already in the table, under the incident each is linked to now
relinked as (

    {% if is_incremental() %}
        select previous.* replace (article_incidents.incident_id as incident_id)
        from {{ this }} as previous
        left join article_incidents
            on previous.article_id = article_incidents.article_id
        where
            previous.incident_id is distinct from article_incidents.incident_id
            and previous.article_id not in (
                select added.article_id from articles_with_counts as added
            )
    {% else %}
        select * from articles_with_counts
        where false
    {% endif %}

)

select * from articles_with_counts
union all by name
select * from relinked
