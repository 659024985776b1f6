/*
 * mud_nft.h - helpers shared by mud_enforce.c, mud_nft.c and mud_nl.c (mudp_*). Private to
 * libmud; no libnftables or libnl type appears here.
 */
#ifndef MUD_NFT_H
#define MUD_NFT_H

#include "mud.h"

/** A libnftables context inside a talloc wrapper (freed by its destructor). */
typedef struct mudp_nft mudp_nft_t;

/** True for a table name of letters, digits and '_' (at most MUD_ENFORCE_MAX_TABLE). */
bool		mudp_nft_name_ok(char const *name);

/** Parse "xx:xx:xx:xx:xx:xx" (or '-' separated) unicast MAC: canonical lowercase text and the
 *  12-hex-digit id used in chain names. */
bool		mudp_mac_parse(char const *in, uint8_t mac[6], char canon[18], char id[13]);

/** Transaction creating the tables, maps and base chains (fresh: replacing what exists). */
char		*mudp_nft_table_json(TALLOC_CTX *ctx, char const *table, char const *bridge,
				     bool fresh);

/** Transaction removing a device: its address elements, map entries and chains. */
char		*mudp_nft_remove_json(TALLOC_CTX *ctx, char const *table, char const *mac,
				      mud_prefix_t const *addrs, size_t num_addrs);

/** Transaction adding (or deleting) one address of the device with chain id; old_id: the
 *  address belonged to that other device (its element is deleted first). */
char		*mudp_nft_addr_json(TALLOC_CTX *ctx, char const *table, char const *id,
				    mud_prefix_t const *addr, bool add, char const *old_id);

/** Create the libnftables context. */
mud_rcode_t	mudp_nft_open(TALLOC_CTX *ctx, mudp_nft_t **out, mud_error_t *err);

/** Run one JSON transaction (all or nothing); err names what and nftables' first line. */
mud_rcode_t	mudp_nft_run(mudp_nft_t *n, char const *json, char const *what, mud_error_t *err);

/** "list table FAMILY TABLE" as text, NULL if it fails (absent table). */
char		*mudp_nft_list(mudp_nft_t *n, TALLOC_CTX *ctx, char const *family,
			       char const *table);

/** One neighbour (or FDB) event or dump entry. */
typedef struct mudp_neigh {
	uint8_t		mac[6];
	mud_prefix_t	addr;		//!< host prefix; family 0 for an FDB entry
	int		ifindex;
	bool		gone;		//!< RTM_DELNEIGH or a failed entry
} mudp_neigh_t;

/** Callback of the neighbour monitor. */
typedef void (*mudp_neigh_cb_t)(void *uctx, mudp_neigh_t const *n);

/** libnl access behind an ops table, so tests can replace it (STYLE.md section 1). */
typedef struct mudp_nl_ops {
	/** Addresses of a MAC in the neighbour table (ifindex 0: any interface). */
	size_t		(*addrs)(void *uctx, uint8_t const mac[6], int ifindex, mud_prefix_t *out,
				 size_t max);
	/** Bridge port (FDB) of a MAC into port (IFNAMSIZ), false if unknown. */
	bool		(*port)(void *uctx, uint8_t const mac[6], int bridge_ifindex, char *port,
				size_t len);
} mudp_nl_ops_t;

/** The real libnl implementation. */
extern mudp_nl_ops_t const mudp_nl_ops;

/** Neighbour notifications (RTNLGRP_NEIGH) on a non-blocking socket. */
typedef struct mudp_nl_mon mudp_nl_mon_t;

mud_rcode_t	mudp_nl_mon_open(TALLOC_CTX *ctx, mudp_nl_mon_t **out, mudp_neigh_cb_t cb,
				 void *uctx, mud_error_t *err);
/** File descriptor to poll. */
int		mudp_nl_mon_fd(mudp_nl_mon_t *m);
/** Read what is pending and call the callback for each neighbour. */
void		mudp_nl_mon_read(mudp_nl_mon_t *m);

#endif /* MUD_NFT_H */
