"""The Elasticsearch edge: index client, mappings, writing enriched articles, and search.

In: enriched Articles and the pipeline's state (feeds, items, alerts, runs). Out: documents behind
versioned aliases `<prefix>-<kind>`. `client` connects, sets up indices and writes in bulk with
retries; `mappings` holds the versioned mappings; `articles` writes an article and its statements,
deciding near-duplicates and first sightings; `search` is the read side.
"""
