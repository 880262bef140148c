-- The figures of in-scope articles (relevant, not a copy), each said once: when an article
-- repeats a figure (same metric, value and currency), the first mention is kept.

{{ in_scope_statistics(ref('stg_lake__statistics'), ref('stg_lake__articles')) }}
