-- Incremental: a build that starts from a copy of the published warehouse (the pipeline's,
-- when the lake has only gained rows since: tracelake/stages.py, added_since) adds the
-- documents landed since, and counts again the articles of those it holds that were
-- segmented since; every other build makes the table whole (reading every document's text
-- for its length).
-- depends_on: {{ ref('stg_lake__documents_added') }}, {{ ref('stg_lake__articles_added') }}
{{
    config(
        materialized='incremental',
        unique_key='doc_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

documents as (

    {% if is_incremental() %}
        select * from {{ ref('stg_lake__documents_added') }}
        union all by name
        select previous.* exclude (article_count)
        from {{ this }} as previous
        where
            previous.doc_id in (
                select segmented.doc_id from {{ ref('stg_lake__articles_added') }} as segmented
            )
            and previous.doc_id not in (
                select landed.doc_id from {{ ref('stg_lake__documents_added') }} as landed
            )
    {% else %}
        select * from {{ ref('stg_lake__documents') }}
    {% endif %}

),

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

article_counts as (

    select
        doc_id,
        count(*) as article_count

    from articles
    group by doc_id

),

documents_with_counts as (

    select
        documents.doc_id,
        documents.source_file,
        documents.content_type,
        documents.encoding,
        documents.size_bytes,
        documents.text_length,
        coalesce(documents.problems, cast([] as varchar[])) as problems,
        documents.landed_at,
        documents.ingest_date,
        documents.run_id,
        coalesce(article_counts.article_count, 0) as article_count

    from documents
    left join article_counts
        on documents.doc_id = article_counts.doc_id

)

select * from documents_with_counts
