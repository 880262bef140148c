with

source as (

    select * from {{ source('lake', 'articles') }}
    where extractor_version = '{{ var("extractor_version") }}'

),

renamed as (

    select
        cast(article_id as varchar) as article_id,
        cast(doc_id as varchar) as doc_id,
        cast(source_file as varchar) as source_file,
        cast(article_index as integer) as article_index,
        cast(title as varchar) as title,
        cast(body as varchar) as body,
        cast(body_offsets as bigint[]) as body_offsets,
        cast(fingerprint as varchar) as fingerprint,
        cast(char_start as bigint) as char_start,
        cast(char_end as bigint) as char_end,
        cast(published_date as date) as published_date,
        cast(date_source as varchar) as date_source,
        cast(reader as varchar) as reader,
        cast(url as varchar) as url,
        cast(language as varchar) as language,
        cast(is_relevant as boolean) as is_relevant,
        cast(relevance_reason as varchar) as relevance_reason,
        cast(crime_types as varchar[]) as crime_types,
        cast(duplicate_of as varchar) as duplicate_of_article_id,
        duplicate_of is not null as is_duplicate,
        cast(extractor_version as varchar) as extractor_version

    from source

)

select * from renamed
