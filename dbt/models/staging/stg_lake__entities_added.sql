{{ stage_entities(source('lake', 'entities_added')) }}
