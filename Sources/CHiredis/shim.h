#ifndef FIELDWORK_CHIREDIS_SHIM_H
#define FIELDWORK_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
