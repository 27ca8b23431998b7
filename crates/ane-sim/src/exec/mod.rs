//! Building blocks shared by the kernels: fixed-size work splitting ([`parallel`]), float
//! widening and rounding in blocks ([`float_io`]), n-ary broadcast walks ([`broadcast`]) and
//! index-table copies for every data-movement op ([`copy_map`]).

pub(crate) mod broadcast;
pub(crate) mod copy_map;
pub(crate) mod float_io;
pub(crate) mod parallel;
