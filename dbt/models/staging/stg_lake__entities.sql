with

source as (

    select * from {{ source('lake', 'entities') }}
    where extractor_version = '{{ var("extractor_version") }}'

),

renamed as (

    select
        cast(article_id as varchar) as article_id,
        cast(doc_id as varchar) as doc_id,
        cast(entity_type as varchar) as entity_type,
        cast(entity_id as varchar) as entity_id,
        cast(mention as varchar) as mention,
        cast(char_start as bigint) as char_start,
        cast(char_end as bigint) as char_end,
        cast(extractor_version as varchar) as extractor_version

    from source

)

select * from renamed
