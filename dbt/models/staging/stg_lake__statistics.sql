{{ stage_statistics(source('lake', 'statistics')) }}
