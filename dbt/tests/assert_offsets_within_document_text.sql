-- Every span an analyst can follow back (articles, figures, first entity mentions) must
-- point inside the text of its document. Returns the rows that do not.

with

documents as (

    select * from {{ ref('dim_documents') }}

),

articles as (

    select * from {{ ref('dim_articles') }}

),

statistics as (

    select * from {{ ref('fct_statistics') }}

),

entities as (

    select * from {{ ref('bridge_article_entities') }}

),

spans as (

    select
        'article' as span_kind,
        article_id as span_id,
        doc_id,
        char_start,
        char_end
    from articles

    union all

    select
        'statistic' as span_kind,
        statistic_id as span_id,
        doc_id,
        char_start,
        char_end
    from statistics

    union all

    select
        'entity' as span_kind,
        article_id || ':' || entity_type || ':' || entity_id as span_id,
        doc_id,
        first_char_start as char_start,
        first_char_start as char_end
    from entities

),

spans_outside_text as (

    select
        spans.span_kind,
        spans.span_id,
        spans.doc_id,
        spans.char_start,
        spans.char_end,
        documents.text_length

    from spans
    inner join documents
        on spans.doc_id = documents.doc_id
    where
        spans.char_start < 0
        or spans.char_end < spans.char_start
        or spans.char_end > documents.text_length

)

select * from spans_outside_text
