with

agencies as (

    select * from {{ ref('agencies') }}

),

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

article_counts as (

    select
        entities.entity_id as agency_id,
        count(*) as article_count,
        count(distinct article_incidents.incident_id) filter (
            where entities.is_in_scope
        ) as incident_count

    from entities
    left join article_incidents
        on entities.article_id = article_incidents.article_id
    where entities.entity_type = 'agency'
    group by entities.entity_id

),

agencies_found_by_name_only as (

    select
        article_counts.agency_id,
        article_counts.agency_id as name,
        '' as aliases,
        cast(null as varchar) as jurisdiction,
        cast(null as varchar) as kind,
        false as is_in_reference

    from article_counts
    left join agencies
        on article_counts.agency_id = agencies.agency_id
    where agencies.agency_id is null

),

all_agencies as (

    select
        agency_id,
        name,
        aliases,
        jurisdiction,
        kind,
        true as is_in_reference

    from agencies

    union all

    select * from agencies_found_by_name_only

),

agencies_with_counts as (

    select
        all_agencies.agency_id,
        all_agencies.name,
        case
            when coalesce(all_agencies.aliases, '') = '' then cast([] as varchar[])
            else string_split(all_agencies.aliases, '|')
        end as aliases,
        all_agencies.jurisdiction,
        all_agencies.kind,
        all_agencies.is_in_reference,
        coalesce(article_counts.article_count, 0) as article_count,
        coalesce(article_counts.incident_count, 0) as incident_count

    from all_agencies
    left join article_counts
        on all_agencies.agency_id = article_counts.agency_id

)

select * from agencies_with_counts
