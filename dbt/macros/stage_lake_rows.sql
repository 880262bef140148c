{#- The renames and casts of the lake's statistics and entities, for the rows of the current
    extractor version in `relation`: the whole table (stg_lake__statistics) or the rows added
    since the published build (stg_lake__statistics_added), so both read alike. -#}
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
