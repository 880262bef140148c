{{ stage_documents(source('lake', 'raw_documents_added')) }}
