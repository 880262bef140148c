with

agencies as (

    select * from {{ ref('agencies') }}

),

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

article_counts as (

    select
        entity_id as agency_id,
        count(*) as article_count,
        count(*) filter (where is_in_scope) as incident_count

    from entities
    where entity_type = 'agency'
    group by entity_id

),

agencies_with_counts as (

    select
        agencies.agency_id,
        agencies.name,
        case
            when coalesce(agencies.aliases, '') = '' then cast([] as varchar[])
            else string_split(agencies.aliases, '|')
        end as aliases,
        agencies.jurisdiction,
        agencies.kind,
        coalesce(article_counts.article_count, 0) as article_count,
        coalesce(article_counts.incident_count, 0) as incident_count

    from agencies
    left join article_counts
        on agencies.agency_id = article_counts.agency_id

)

select * from agencies_with_counts
