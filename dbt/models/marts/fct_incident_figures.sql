-- One row per incident and counted metric: the figure its articles support, reconciled.
-- Each article gives its headline figure for the metric: the first exact one it states, else
-- its first ("dozens" gives way to "57"; later figures are often of other events or of a
-- part of this one). The
-- incident's value is the one most articles give (the larger on a tie), unless its latest
-- report gives a larger one after the first report of that value: an update, kept and
-- marked (is_update). Money and the catch-all count are not reconciled: sums of money are
-- not comparable across articles.

{%- set pivoted_metrics = var('pivoted_metrics') %}

with

statistics as (

    select * from {{ ref('int_statistics_deduplicated') }}

),

article_incidents as (

    select * from {{ ref('int_article_incidents') }}

),

article_values as (

    select
        article_incidents.incident_id,
        statistics.article_id,
        statistics.metric,
        arg_min(
            statistics.value,
            [case when statistics.qualifier = 'exact' then 0 else 1 end, statistics.char_start]
        ) as value,
        any_value(statistics.published_date) as published_date

    from statistics
    inner join article_incidents
        on statistics.article_id = article_incidents.article_id
    where statistics.metric in ('{{ pivoted_metrics | join("', '") }}')  -- noqa: LT05
    group by article_incidents.incident_id, statistics.article_id, statistics.metric

),

value_support as (

    select
        incident_id,
        metric,
        value,
        count(*) as supporting_articles,
        min(published_date) as first_reported_date

    from article_values
    group by incident_id, metric, value

),

metric_summary as (

    select
        incident_id,
        metric,
        count(*) as reporting_articles,
        count(distinct value) as distinct_values

    from article_values
    group by incident_id, metric

),

most_supported as (

    select * from value_support
    qualify row_number() over (
            partition by incident_id, metric
            order by supporting_articles desc, value desc
        ) = 1

),

latest_reported as (

    select * from article_values
    where published_date is not null
    qualify row_number() over (
            partition by incident_id, metric
            order by published_date desc, value desc
        ) = 1

),

reconciled as (

    select
        most_supported.incident_id,
        most_supported.metric,
        coalesce(
            latest_reported.value > most_supported.value
            and latest_reported.published_date > most_supported.first_reported_date,
            false
        ) as is_update,
        case
            when is_update then latest_reported.value
            else most_supported.value
        end as value,
        metric_summary.reporting_articles,
        metric_summary.distinct_values > 1 as has_disagreement

    from most_supported
    inner join metric_summary
        on most_supported.incident_id = metric_summary.incident_id
            and most_supported.metric = metric_summary.metric
    left join latest_reported
        on most_supported.incident_id = latest_reported.incident_id
            and most_supported.metric = latest_reported.metric

),

with_support as (

    select
        reconciled.incident_id,
        reconciled.metric,
        reconciled.value,
        value_support.supporting_articles as agreeing_articles,
        reconciled.reporting_articles,
        reconciled.has_disagreement,
        reconciled.is_update

    from reconciled
    inner join value_support
        on reconciled.incident_id = value_support.incident_id
            and reconciled.metric = value_support.metric
            and reconciled.value = value_support.value

)

select * from with_support
