{{ stage_articles(source('lake', 'articles')) }}
