with

source as (

    select * from {{ source('lake', 'incident_links') }}
    where extractor_version = '{{ var("extractor_version") }}'
        and matcher_version = '{{ var("matcher_version") }}'

),

renamed as (

    select
        cast(article_id as varchar) as article_id,
        cast(incident_id as varchar) as incident_id,
        cast(published_date as date) as published_date,
        cast(matched_article_id as varchar) as matched_article_id,
        cast(similarity as double) as similarity,
        cast(date_gap_days as integer) as date_gap_days,
        cast(shared_keys as varchar[]) as shared_keys,
        cast(event_date as date) as event_date,
        cast(run_id as varchar) as run_id

    from source

)

select * from renamed
