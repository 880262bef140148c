{#- The renames and casts of the lake's documents, and of its articles, statistics and entities
    of the current extractor version, for the rows in `relation`: the whole table
    (stg_lake__statistics) or the rows added since the published build
    (stg_lake__statistics_added), so both read alike. -#}
{% macro stage_documents(relation) %}
with

source as (

    select * from {{ relation }}

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
{% endmacro %}

{% macro stage_articles(relation) %}
with

source as (

    select * from {{ relation }}
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
{% endmacro %}

{% macro stage_statistics(relation) %}
with

source as (

    select * from {{ relation }}
    where extractor_version = '{{ var("extractor_version") }}'

),

renamed as (

    select
        cast(statistic_id as varchar) as statistic_id,
        cast(article_id as varchar) as article_id,
        cast(doc_id as varchar) as doc_id,
        cast(metric as varchar) as metric,
        cast(value as double) as value,
        cast(qualifier as varchar) as qualifier,
        cast(unit as varchar) as unit,
        cast(currency as varchar) as currency,
        cast(subject as varchar) as subject,
        cast(evidence as varchar) as evidence,
        cast(char_start as bigint) as char_start,
        cast(char_end as bigint) as char_end,
        cast(extractor_version as varchar) as extractor_version

    from source

)

select * from renamed
{% endmacro %}

{% macro stage_entities(relation) %}
with

source as (

    select * from {{ relation }}
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
{% endmacro %}
