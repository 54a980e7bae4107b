/* Binary size units, one definition for every stage. */
#ifndef PXEFORGE_UNITS_H
#define PXEFORGE_UNITS_H

#include <stdint.h>

#define PF_KI (UINT64_C(1) << 10)
#define PF_MI (UINT64_C(1) << 20)
#define PF_GI (UINT64_C(1) << 30)

#endif
