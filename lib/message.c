#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exitcodes.h"
#include "message.h"

static enum message_kind
kind_of(const struct jval *type)
{
	static const struct {
		const char		*name;
		enum message_kind	 kind;
	} kinds[] = {
		{ "RECORD", MSG_RECORD },
		{ "SCHEMA", MSG_SCHEMA },
		{ "STATE", MSG_STATE },
		{ "ACTIVATE_VERSION", MSG_ACTIVATE_VERSION },
		{ "SLUICE_ABORT", MSG_ABORT },
	};
	size_t i;

	if (type == NULL || type->type != JV_STRING)
		return MSG_BARE;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (type->len == strlen(kinds[i].name) &&
		    strncasecmp(type->str, kinds[i].name, type->len) == 0)
			return kinds[i].kind;
	return MSG_BARE;
}

const char *
message_kind_name(enum message_kind k)
{
	switch (k) {
	case MSG_RECORD: return "RECORD";
	case MSG_SCHEMA: return "SCHEMA";
	case MSG_STATE: return "STATE";
	case MSG_ACTIVATE_VERSION: return "ACTIVATE_VERSION";
	case MSG_ABORT: return "SLUICE_ABORT";
	default: return "record";
	}
}

static int
need_stream(struct message *m, const struct jval *stream, struct lib_err *e)
{
	if (stream->type != JV_STRING || stream->len == 0)
		return liberr_set(e, EX_DATAERR,
		    "%s message: \"stream\" is not a non-empty string",
		    message_kind_name(m->kind));
	m->stream = stream->str;
	m->streamlen = stream->len;
	return 0;
}

int
message_classify(const struct jval *root, int raw, struct message *m,
    struct lib_err *e)
{
	const struct jval *type = NULL, *stream = NULL, *record = NULL;
	const struct jval *mv, *schema = NULL, *keys = NULL, *value = NULL;
	const struct jval *version = NULL, *status = NULL, *error = NULL;

	memset(m, 0, sizeof(*m));
	m->root = root;
	if (root->type != JV_OBJECT)
		return liberr_set(e, EX_DATAERR, "not a JSON object");
	m->kind = MSG_BARE;
	m->record = root;
	if (raw)
		return 0;

	/*
	 * One pass over the members; a repeated key: the last one wins.  Most
	 * lines are records whose keys are none of these: the first letter
	 * and the length turn them away without a string comparison.
	 */
	for (mv = root->child; mv != NULL; mv = mv->next) {
		const char *k = mv->key;

		switch (mv->keylen) {
		case 4:
			if (k[0] == 't' && memcmp(k, "type", 4) == 0)
				type = mv;
			break;
		case 5:
			if (k[0] == 'v' && memcmp(k, "value", 5) == 0)
				value = mv;
			else if (k[0] == 'e' && memcmp(k, "error", 5) == 0)
				error = mv;
			break;
		case 6:
			if (k[0] == 's' && memcmp(k, "stream", 6) == 0)
				stream = mv;
			else if (k[0] == 'r' && memcmp(k, "record", 6) == 0)
				record = mv;
			else if (k[0] == 's' && memcmp(k, "schema", 6) == 0)
				schema = mv;
			else if (k[0] == 's' && memcmp(k, "status", 6) == 0)
				status = mv;
			break;
		case 7:
			if (k[0] == 'v' && memcmp(k, "version", 7) == 0)
				version = mv;
			break;
		case 14:
			if (k[0] == 'k' && memcmp(k, "key_properties", 14) == 0)
				keys = mv;
			break;
		default:
			break;
		}
	}
	if (type == NULL)
		return 0;
	switch (kind_of(type)) {
	case MSG_RECORD:
		if (stream == NULL || record == NULL)
			return 0;
		m->kind = MSG_RECORD;
		if (need_stream(m, stream, e) == -1)
			return -1;
		if (record->type != JV_OBJECT)
			return liberr_set(e, EX_DATAERR,
			    "RECORD message: \"record\" is not an object");
		m->record = record;
		m->version = version;
		return 0;
	case MSG_SCHEMA:
		if (stream == NULL || schema == NULL)
			return 0;
		m->kind = MSG_SCHEMA;
		m->record = NULL;
		if (need_stream(m, stream, e) == -1)
			return -1;
		if (schema->type != JV_OBJECT)
			return liberr_set(e, EX_DATAERR,
			    "SCHEMA message: \"schema\" is not an object");
		if (keys != NULL && keys->type != JV_ARRAY && keys->type != JV_NULL)
			return liberr_set(e, EX_DATAERR,
			    "SCHEMA message: \"key_properties\" is not an array");
		m->schema = schema;
		m->key_properties = keys;
		return 0;
	case MSG_STATE:
		if (value == NULL)
			return 0;
		m->kind = MSG_STATE;
		m->record = NULL;
		m->value = value;
		return 0;
	case MSG_ACTIVATE_VERSION:
		if (stream == NULL || version == NULL)
			return 0;
		m->kind = MSG_ACTIVATE_VERSION;
		m->record = NULL;
		if (need_stream(m, stream, e) == -1)
			return -1;
		if (version->type != JV_NUMBER)
			return liberr_set(e, EX_DATAERR,
			    "ACTIVATE_VERSION message: \"version\" is not a number");
		m->version = version;
		return 0;
	case MSG_ABORT:
		m->kind = MSG_ABORT;
		m->record = NULL;
		m->status = status;
		m->error = error;
		return 0;
	default:
		return 0;
	}
}

void
message_write_abort(struct jbuf *b, const char *program, int status,
    const char *error)
{
	char num[16];

	jbuf_puts(b, "{\"type\":\"SLUICE_ABORT\",\"program\":");
	jbuf_str(b, program, strlen(program));
	(void)snprintf(num, sizeof(num), "%d", status);
	jbuf_puts(b, ",\"status\":");
	jbuf_puts(b, num);
	jbuf_puts(b, ",\"error\":");
	jbuf_str(b, error, strlen(error));
	jbuf_puts(b, "}\n");
}
