{{ stage_articles(source('lake', 'articles_added')) }}
