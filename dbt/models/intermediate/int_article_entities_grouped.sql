-- Mentions grouped to one row per article and entity, for articles that exist (a mention
-- of an article the segmenter no longer produces is dropped).

{{ article_entities_grouped(ref('stg_lake__entities'), ref('stg_lake__articles')) }}
