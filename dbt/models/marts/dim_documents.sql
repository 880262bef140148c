with

documents as (

    select * from {{ ref('stg_lake__documents') }}

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
