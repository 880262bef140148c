with

source as (

    select * from {{ source('lake', 'raw_documents') }}

),

renamed as (

    select
        cast(doc_id as varchar) as doc_id,
        cast(source_file as varchar) as source_file,
        cast(content_type as varchar) as content_type,
        cast(encoding as varchar) as encoding,
        cast(size_bytes as bigint) as size_bytes,
        cast(length(text) as bigint) as text_length,
        cast(problems as varchar[]) as problems,
        cast(landed_at as timestamp with time zone) as landed_at,
        cast(ingest_date as date) as ingest_date,
        cast(run_id as varchar) as run_id

    from source

)

select * from renamed
