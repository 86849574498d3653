/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Portability glue so the packet library compiles unchanged for BPF
 * (clang -target bpf) and for userspace (gcc/clang, x86_64).
 */
#ifndef STEER_COMPILER_H
#define STEER_COMPILER_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define steer_likely(x) __builtin_expect(!!(x), 1)
#define steer_unlikely(x) __builtin_expect(!!(x), 0)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define steer_htons(x) ((__be16)__builtin_bswap16((__u16)(x)))
#define steer_ntohs(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define steer_htonl(x) ((__be32)__builtin_bswap32((__u32)(x)))
#define steer_ntohl(x) ((__u32)__builtin_bswap32((__u32)(x)))
#else
#define steer_htons(x) ((__be16)(x))
#define steer_ntohs(x) ((__u16)(x))
#define steer_htonl(x) ((__be32)(x))
#define steer_ntohl(x) ((__u32)(x))
#endif

/* Unrolled in BPF (the verifier wants bounded loops), a hint elsewhere. */
#if defined(__clang__)
#define STEER_UNROLL _Pragma("unroll")
#else
#define STEER_UNROLL
#endif

/* Byte copy usable from BPF (no libc); n must be a compile-time bound. */
static __always_inline void steer_memcpy(void *dst, const void *src, __u32 n)
{
	__builtin_memcpy(dst, src, n);
}

#endif /* STEER_COMPILER_H */
