{{ stage_statistics(source('lake', 'statistics_added')) }}
