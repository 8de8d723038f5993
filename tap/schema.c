/*
 * The one stream this tap offers, `decisions`: its JSON Schema (the field
 * set and types of the decision-history API's record) and the catalog
 * entry that --discover prints.
 */
#include "schema.h"

#include <stdio.h>

const char tap_schema[] =
	"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":[\"null\","
	"\"string\"],\"format\":\"uuid\"},\"flow\":{\"type\":\"object\","
	"\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
	"\"slug\":{\"type\":\"string\"},\"version_id\":{\"type\":\"string\","
	"\"format\":\"uuid\"},\"version_name\":{\"type\":\"string\"}}},"
	"\"entity_id\":{\"type\":[\"null\",\"string\"]},"
	"\"is_error\":{\"type\":\"boolean\"},\"error\":{\"type\":[\"null\","
	"\"object\"]},\"is_sandbox\":{\"type\":\"boolean\"},"
	"\"duration_in_milliseconds\":{\"type\":[\"null\",\"integer\"]},"
	"\"start_time\":{\"type\":[\"null\",\"string\"],"
	"\"format\":\"date-time\"},\"end_time\":{\"type\":\"string\","
	"\"format\":\"date-time\"},\"masked_fields\":{\"type\":\"array\","
	"\"items\":{\"type\":\"string\"}},\"request\":{\"type\":\"object\","
	"\"properties\":{\"data\":{\"type\":\"object\"},"
	"\"metadata\":{\"type\":\"object\","
	"\"properties\":{\"version\":{\"type\":[\"null\",\"string\"]},"
	"\"entity_id\":{\"type\":[\"null\",\"string\"]}}}}},"
	"\"response\":{\"anyOf\":[{\"title\":\"HistoricalResponseError\","
	"\"required\":[\"detail\"],\"type\":\"object\","
	"\"properties\":{\"detail\":{\"title\":\"Detail\","
	"\"type\":\"object\"},\"metadata\":{\"title\":\"HistoricalMetadata\","
	"\"type\":\"object\","
	"\"properties\":{\"version\":{\"title\":\"Version\","
	"\"type\":[\"null\",\"string\"]},"
	"\"entity_id\":{\"title\":\"Entity Id\",\"type\":[\"null\","
	"\"string\"]},\"timestamp\":{\"title\":\"Timestamp\","
	"\"type\":\"string\",\"format\":\"date-time\"},"
	"\"decision_id\":{\"title\":\"Decision Id\",\"type\":\"string\","
	"\"format\":\"uuid\"}}}}},{\"title\":\"HistoricalResponse\","
	"\"required\":[\"data\",\"metadata\"],\"type\":\"object\","
	"\"properties\":{\"data\":{\"title\":\"Data\",\"type\":\"object\"},"
	"\"metadata\":{\"title\":\"HistoricalMetadata\",\"type\":\"object\","
	"\"properties\":{\"version\":{\"title\":\"Version\","
	"\"type\":[\"null\",\"string\"]},"
	"\"entity_id\":{\"title\":\"Entity Id\",\"type\":[\"null\","
	"\"string\"]},\"timestamp\":{\"title\":\"Timestamp\","
	"\"type\":\"string\",\"format\":\"date-time\"},"
	"\"decision_id\":{\"title\":\"Decision Id\",\"type\":\"string\","
	"\"format\":\"uuid\"}}}}}]},\"node_results\":{\"type\":[\"null\","
	"\"object\"],\"properties\":{\"time_ordered\":{\"type\":\"array\","
	"\"items\":{\"type\":\"string\",\"format\":\"uuid\"}},"
	"\"nodes\":{\"type\":\"object\","
	"\"additionalProperties\":{\"title\":\"Node\",\"required\":[\"id\","
	"\"data\",\"tracing\"],\"type\":\"object\","
	"\"properties\":{\"id\":{\"title\":\"Id\",\"type\":\"string\","
	"\"format\":\"uuid\"},\"title\":{\"title\":\"Title\","
	"\"type\":[\"null\",\"string\"]},\"data\":{\"title\":\"Data\","
	"\"type\":\"object\"},\"tracing\":{\"title\":\"NodeTracing\","
	"\"required\":[\"error\"],\"type\":\"object\","
	"\"properties\":{\"start_time\":{\"title\":\"Start Time\","
	"\"type\":[\"null\",\"string\"],\"format\":\"date-time\"},"
	"\"end_time\":{\"title\":\"End Time\",\"type\":[\"null\",\"string\"],"
	"\"format\":\"date-time\"},\"error\":{\"title\":\"Error\","
	"\"type\":\"boolean\"}}}}}}}},"
	"\"external_resources\":{\"type\":[\"null\",\"array\"],"
	"\"items\":{\"type\":\"object\","
	"\"properties\":{\"id\":{\"type\":[\"null\",\"string\"]},"
	"\"provider\":{\"type\":\"string\"},"
	"\"resource\":{\"type\":\"string\"},\"node_id\":{\"type\":\"string\","
	"\"format\":\"uuid\"},\"response\":{\"type\":\"object\"},"
	"\"created_at\":{\"type\":[\"null\",\"string\"],"
	"\"format\":\"date-time\"},\"from_cache\":{\"type\":[\"null\","
	"\"boolean\"]}}}}}}";

int
tap_write_catalog(FILE *out)
{
	fputs("{\"streams\":[{\"tap_stream_id\":\"decisions\","
	    "\"stream\":\"decisions\",\"schema\":", out);
	fputs(tap_schema, out);
	fputs(",\"key_properties\":[\"id\"],\"metadata\":[{\"breadcrumb\":[],"
	    "\"metadata\":{\"inclusion\":\"available\","
	    "\"selected-by-default\":true,"
	    "\"table-key-properties\":[\"id\"],"
	    "\"valid-replication-keys\":[\"end_time\"],"
	    "\"forced-replication-method\":\"INCREMENTAL\"}}]}]}\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
