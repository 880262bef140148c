{{ stage_entities(source('lake', 'entities')) }}
