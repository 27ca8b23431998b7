//! Batching: seeded per-epoch shuffling for training, in-order iteration for evaluation, and
//! the fill of caller-owned buffers with normalized `f32` images and integer labels.
//!
//! The order of epoch `e` depends only on `(seed, e)`: a fresh identity permutation shuffled by
//! a generator seeded from the `e`-th draw of `Rng::derive(seed, "shuffle")`. So a training run
//! resumes bit-exactly from a [`BatchCursor`] (epoch, batch index) alone, without replaying
//! earlier epochs' shuffles.

use serde::{Deserialize, Serialize};

use super::dataset::ImageSplit;
use super::error::{DataError, Result};
use super::normalize::PixelMap;
use crate::rng::Rng;

/// What to do with the examples left over when a split is not a multiple of the batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LastBatch {
    /// Skip them (every training batch is full; the skipped examples change every epoch).
    #[default]
    Drop,
    /// Yield them as a final, shorter batch (the buffer's unused rows are zeroed).
    Keep,
}

/// Where a [`ShuffledBatches`] stream stands: the next batch it will produce. Serializable so a
/// checkpoint can record it and a resumed run continues with exactly the same batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BatchCursor {
    /// The epoch of the next batch (0-based).
    pub epoch: u64,
    /// The index of the next batch within its epoch (0-based).
    pub batch: u64,
}

/// A label element type batches can be filled with (`u32`, `i32`, or `f32` for devices that
/// take labels as floats).
pub trait Label: Copy + Default {
    /// The label for class `class`.
    fn from_class(class: u8) -> Self;
}

impl Label for u32 {
    fn from_class(class: u8) -> Self {
        class as u32
    }
}

impl Label for i32 {
    fn from_class(class: u8) -> Self {
        class as i32
    }
}

impl Label for f32 {
    fn from_class(class: u8) -> Self {
        class as f32
    }
}

/// Fills rows of `images` (flattened, `pixels_per_image` floats per row) and `labels` with the
/// examples at `indices`, mapping pixels through `map`. Rows beyond `indices.len()` are left
/// untouched. This is the allocation-free core; [`Batch`] wraps it with owned buffers.
pub fn fill_rows<L: Label>(
    split: &ImageSplit,
    indices: &[u32],
    map: &PixelMap,
    images: &mut [f32],
    labels: &mut [L],
) -> Result<()> {
    let ppi = split.pixels_per_image();
    if images.len() < indices.len() * ppi || labels.len() < indices.len() {
        return Err(DataError::InvalidBatching(format!(
            "{} examples of {ppi} pixels need {} image floats and {} labels; buffers hold {} and {}",
            indices.len(),
            indices.len() * ppi,
            indices.len(),
            images.len(),
            labels.len()
        )));
    }
    if let Some(&bad) = indices.iter().find(|&&i| i as usize >= split.len()) {
        return Err(DataError::InvalidBatching(format!(
            "example index {bad} is out of range for a split of {}",
            split.len()
        )));
    }
    let all_labels = split.labels();
    for ((&index, row), label) in indices
        .iter()
        .zip(images.chunks_exact_mut(ppi))
        .zip(labels.iter_mut())
    {
        map.map_into(split.image(index as usize), row);
        *label = L::from_class(all_labels[index as usize]);
    }
    Ok(())
}

/// A reusable batch buffer: `batch_size` rows of normalized images and labels, of which the
/// first [`Batch::len`] are valid. Allocate once, fill every step.
#[derive(Debug, Clone)]
pub struct Batch<L: Label = u32> {
    images: Vec<f32>,
    labels: Vec<L>,
    len: usize,
    batch_size: usize,
    height: usize,
    width: usize,
}

impl<L: Label> Batch<L> {
    /// An empty buffer for batches of up to `batch_size` images of `height × width`.
    pub fn new(batch_size: usize, height: usize, width: usize) -> Self {
        Batch {
            images: vec![0.0; batch_size * height * width],
            labels: vec![L::default(); batch_size],
            len: 0,
            batch_size,
            height,
            width,
        }
    }

    /// A buffer sized for `split`'s images.
    pub fn for_split(batch_size: usize, split: &ImageSplit) -> Self {
        Batch::new(batch_size, split.height(), split.width())
    }

    /// Number of valid examples in the current batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the buffer holds no valid example.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffer's capacity in examples.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The valid images, flattened: shape [`Batch::shape_flat`], row-major.
    pub fn images(&self) -> &[f32] {
        &self.images[..self.len * self.height * self.width]
    }

    /// All `batch_size` rows of images; rows past `len()` are zero. For devices whose kernels
    /// have a fixed batch dimension.
    pub fn images_padded(&self) -> &[f32] {
        &self.images
    }

    /// The valid labels.
    pub fn labels(&self) -> &[L] {
        &self.labels[..self.len]
    }

    /// All `batch_size` labels; entries past `len()` are zero.
    pub fn labels_padded(&self) -> &[L] {
        &self.labels
    }

    /// Shape of [`Batch::images`] as `[len, height × width]`.
    pub fn shape_flat(&self) -> [usize; 2] {
        [self.len, self.height * self.width]
    }

    /// Shape of [`Batch::images`] as `[len, 1, height, width]` (NCHW, one channel): the same
    /// memory as the flat view.
    pub fn shape_nchw(&self) -> [usize; 4] {
        [self.len, 1, self.height, self.width]
    }

    /// Fills the buffer with the examples at `indices` (at most `batch_size` of them), zeroing
    /// the rows after them.
    pub fn fill(&mut self, split: &ImageSplit, indices: &[u32], map: &PixelMap) -> Result<()> {
        if (split.height(), split.width()) != (self.height, self.width) {
            return Err(DataError::InvalidBatching(format!(
                "batch buffer is for {}×{} images but the split has {}×{}",
                self.height,
                self.width,
                split.height(),
                split.width()
            )));
        }
        if indices.len() > self.batch_size {
            return Err(DataError::InvalidBatching(format!(
                "{} examples do not fit a batch of {}",
                indices.len(),
                self.batch_size
            )));
        }
        fill_rows(split, indices, map, &mut self.images, &mut self.labels)?;
        let ppi = self.height * self.width;
        self.images[indices.len() * ppi..].fill(0.0);
        self.labels[indices.len()..].fill(L::default());
        self.len = indices.len();
        Ok(())
    }
}

/// Where a produced batch sits in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPosition {
    /// The epoch the batch belongs to.
    pub epoch: u64,
    /// Its index within the epoch.
    pub batch: u64,
    /// True for the epoch's final batch.
    pub last_in_epoch: bool,
}

/// An endless stream of shuffled training batches over a split, epoch after epoch.
#[derive(Debug, Clone)]
pub struct ShuffledBatches<'a> {
    split: &'a ImageSplit,
    map: PixelMap,
    batch_size: usize,
    last_batch: LastBatch,
    seed: u64,
    order: Vec<u32>,
    order_epoch: Option<u64>,
    cursor: BatchCursor,
}

impl<'a> ShuffledBatches<'a> {
    /// Batches of `batch_size` from `split`, shuffled per epoch from `seed`, starting at
    /// epoch 0, batch 0. Fails if an epoch would have no batch.
    pub fn new(
        split: &'a ImageSplit,
        batch_size: usize,
        last_batch: LastBatch,
        seed: u64,
        map: PixelMap,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::InvalidBatching(
                "batch size must be positive".into(),
            ));
        }
        if u32::try_from(split.len()).is_err() {
            return Err(DataError::InvalidBatching(format!(
                "{} examples exceed the 2^32 supported",
                split.len()
            )));
        }
        let stream = ShuffledBatches {
            split,
            map,
            batch_size,
            last_batch,
            seed,
            order: Vec::with_capacity(split.len()),
            order_epoch: None,
            cursor: BatchCursor::default(),
        };
        if stream.batches_per_epoch() == 0 {
            return Err(DataError::InvalidBatching(format!(
                "a split of {} examples gives no full batch of {batch_size} (use a smaller batch or keep the last partial batch)",
                split.len()
            )));
        }
        Ok(stream)
    }

    /// The same stream positioned at `cursor` (e.g. read from a checkpoint).
    pub fn resume(
        split: &'a ImageSplit,
        batch_size: usize,
        last_batch: LastBatch,
        seed: u64,
        map: PixelMap,
        cursor: BatchCursor,
    ) -> Result<Self> {
        let mut stream = ShuffledBatches::new(split, batch_size, last_batch, seed, map)?;
        stream.seek(cursor)?;
        Ok(stream)
    }

    /// Batches per epoch under the last-batch policy.
    pub fn batches_per_epoch(&self) -> u64 {
        let n = self.split.len();
        let full = n / self.batch_size;
        let partial = n % self.batch_size != 0 && self.last_batch == LastBatch::Keep;
        (full + partial as usize) as u64
    }

    /// The next batch this stream will produce.
    pub fn cursor(&self) -> BatchCursor {
        self.cursor
    }

    /// Moves to `cursor`; its batch index must be within an epoch.
    pub fn seek(&mut self, cursor: BatchCursor) -> Result<()> {
        if cursor.batch >= self.batches_per_epoch() {
            return Err(DataError::InvalidBatching(format!(
                "resume cursor batch {} is past the end of an epoch of {} batches (was the batch size or dataset changed?)",
                cursor.batch,
                self.batches_per_epoch()
            )));
        }
        self.cursor = cursor;
        Ok(())
    }

    /// The example order of `epoch` (a permutation of `0..len`).
    pub fn epoch_order(&mut self, epoch: u64) -> &[u32] {
        if self.order_epoch != Some(epoch) {
            self.order.clear();
            self.order.extend(0..self.split.len() as u32);
            Rng::new(epoch_seed(self.seed, epoch)).shuffle(&mut self.order);
            self.order_epoch = Some(epoch);
        }
        &self.order
    }

    /// Fills `batch` with the batch at the cursor and advances the cursor (into the next epoch
    /// after the last batch). Fails only if `batch` does not fit this split and batch size.
    pub fn next_into<L: Label>(&mut self, batch: &mut Batch<L>) -> Result<BatchPosition> {
        if batch.batch_size() != self.batch_size {
            return Err(DataError::InvalidBatching(format!(
                "batch buffer holds {} examples but the stream's batch size is {}",
                batch.batch_size(),
                self.batch_size
            )));
        }
        let BatchCursor {
            epoch,
            batch: index,
        } = self.cursor;
        let per_epoch = self.batches_per_epoch();
        let start = index as usize * self.batch_size;
        let end = (start + self.batch_size).min(self.split.len());
        let split = self.split;
        self.epoch_order(epoch);
        batch.fill(split, &self.order[start..end], &self.map)?;
        let last_in_epoch = index + 1 == per_epoch;
        self.cursor = if last_in_epoch {
            BatchCursor {
                epoch: epoch + 1,
                batch: 0,
            }
        } else {
            BatchCursor {
                epoch,
                batch: index + 1,
            }
        };
        Ok(BatchPosition {
            epoch,
            batch: index,
            last_in_epoch,
        })
    }
}

/// The seed of epoch `epoch`'s shuffle: the `epoch`-th draw (0-based) of the stream
/// `Rng::derive(seed, "shuffle")`. O(epoch) draws, negligible next to one epoch of data.
fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    let mut base = Rng::derive(seed, "shuffle");
    let mut value = base.next_u64();
    for _ in 0..epoch {
        value = base.next_u64();
    }
    value
}

/// In-order, unshuffled batches over a split for evaluation; the last batch may be partial.
#[derive(Debug, Clone)]
pub struct EvalBatches<'a> {
    split: &'a ImageSplit,
    map: PixelMap,
    batch_size: usize,
    next_start: usize,
    indices: Vec<u32>,
}

impl<'a> EvalBatches<'a> {
    /// Evaluation batches of up to `batch_size` examples, in split order.
    pub fn new(split: &'a ImageSplit, batch_size: usize, map: PixelMap) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::InvalidBatching(
                "batch size must be positive".into(),
            ));
        }
        Ok(EvalBatches {
            split,
            map,
            batch_size,
            next_start: 0,
            indices: Vec::with_capacity(batch_size),
        })
    }

    /// Number of batches in one pass.
    pub fn num_batches(&self) -> usize {
        self.split.len().div_ceil(self.batch_size)
    }

    /// Fills `batch` with the next examples in order; returns the index of its first example,
    /// or `None` when the pass is complete.
    pub fn next_into<L: Label>(&mut self, batch: &mut Batch<L>) -> Result<Option<usize>> {
        if self.next_start >= self.split.len() {
            return Ok(None);
        }
        if batch.batch_size() != self.batch_size {
            return Err(DataError::InvalidBatching(format!(
                "batch buffer holds {} examples but evaluation batches are {}",
                batch.batch_size(),
                self.batch_size
            )));
        }
        let start = self.next_start;
        let end = (start + self.batch_size).min(self.split.len());
        self.indices.clear();
        self.indices.extend(start as u32..end as u32);
        batch.fill(self.split, &self.indices, &self.map)?;
        self.next_start = end;
        Ok(Some(start))
    }

    /// Starts a new pass from the first example.
    pub fn reset(&mut self) {
        self.next_start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::normalize::{NormStats, Normalize};

    /// A split of `n` 2×3 images whose pixels all equal the example index (mod 256) and whose
    /// label is the index mod 10, so every filled row identifies its example.
    fn split(n: usize) -> ImageSplit {
        let images = (0..n).flat_map(|i| [i as u8; 6]).collect();
        let labels = (0..n).map(|i| (i % 10) as u8).collect();
        ImageSplit::new(images, labels, 2, 3, 10).unwrap()
    }

    fn raw() -> PixelMap {
        PixelMap::new(Normalize::None, &NormStats::mnist())
    }

    fn ids(batch: &Batch) -> Vec<u32> {
        batch.images().chunks(6).map(|r| r[0] as u32).collect()
    }

    #[test]
    fn epochs_are_permutations_and_differ() {
        let s = split(100);
        let mut stream = ShuffledBatches::new(&s, 10, LastBatch::Drop, 7, raw()).unwrap();
        let mut buf = Batch::for_split(10, &s);
        let mut epochs = vec![Vec::new(), Vec::new()];
        for _ in 0..20 {
            let pos = stream.next_into(&mut buf).unwrap();
            assert_eq!(
                buf.labels(),
                &ids(&buf).iter().map(|i| i % 10).collect::<Vec<_>>()[..]
            );
            epochs[pos.epoch as usize].extend(ids(&buf));
        }
        for e in &epochs {
            let mut sorted = e.clone();
            sorted.sort();
            assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        }
        assert_ne!(epochs[0], epochs[1]);
        assert_ne!(epochs[0], (0..100).collect::<Vec<_>>());
        assert_eq!(stream.cursor(), BatchCursor { epoch: 2, batch: 0 });
    }

    #[test]
    fn same_seed_same_batches_other_seed_others() {
        let s = split(64);
        let run = |seed| {
            let mut stream = ShuffledBatches::new(&s, 8, LastBatch::Drop, seed, raw()).unwrap();
            let mut buf = Batch::for_split(8, &s);
            (0..24)
                .flat_map(|_| {
                    stream.next_into(&mut buf).unwrap();
                    ids(&buf)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn resume_from_serialized_cursor_is_bit_exact() {
        let s = split(50);
        let map = PixelMap::new(Normalize::Standard, &NormStats::mnist());
        let mut full = ShuffledBatches::new(&s, 8, LastBatch::Keep, 3, map.clone()).unwrap();
        let mut buf = Batch::<i32>::for_split(8, &s);
        let mut saved = None;
        let mut tail = Vec::new();
        for step in 0..23 {
            if step == 11 {
                saved = Some(serde_json::to_string(&full.cursor()).unwrap());
            }
            full.next_into(&mut buf).unwrap();
            if step >= 11 {
                tail.push((buf.images_padded().to_vec(), buf.labels_padded().to_vec()));
            }
        }
        let cursor: BatchCursor = serde_json::from_str(&saved.unwrap()).unwrap();
        assert_eq!(cursor, BatchCursor { epoch: 1, batch: 4 });
        let mut resumed = ShuffledBatches::resume(&s, 8, LastBatch::Keep, 3, map, cursor).unwrap();
        for (images, labels) in tail {
            resumed.next_into(&mut buf).unwrap();
            assert_eq!(buf.images_padded(), &images[..]);
            assert_eq!(buf.labels_padded(), &labels[..]);
        }
    }

    #[test]
    fn last_batch_policies() {
        let s = split(25);
        let mut keep = ShuffledBatches::new(&s, 10, LastBatch::Keep, 0, raw()).unwrap();
        let drop = ShuffledBatches::new(&s, 10, LastBatch::Drop, 0, raw()).unwrap();
        assert_eq!((keep.batches_per_epoch(), drop.batches_per_epoch()), (3, 2));
        let mut buf = Batch::<u32>::for_split(10, &s);
        let lens: Vec<(usize, bool)> = (0..4)
            .map(|_| {
                let pos = keep.next_into(&mut buf).unwrap();
                (buf.len(), pos.last_in_epoch)
            })
            .collect();
        assert_eq!(lens, vec![(10, false), (10, false), (5, true), (10, false)]);
        // A partial batch zeroes the padding rows.
        let mut keep = ShuffledBatches::new(&s, 10, LastBatch::Keep, 0, raw()).unwrap();
        keep.seek(BatchCursor { epoch: 0, batch: 2 }).unwrap();
        keep.next_into(&mut buf).unwrap();
        assert_eq!(buf.shape_flat(), [5, 6]);
        assert_eq!(buf.shape_nchw(), [5, 1, 2, 3]);
        assert!(buf.images_padded()[30..].iter().all(|&x| x == 0.0));
        assert!(buf.labels_padded()[5..].iter().all(|&l| l == 0));
    }

    #[test]
    fn bad_configurations_are_errors() {
        let s = split(5);
        assert!(ShuffledBatches::new(&s, 0, LastBatch::Keep, 0, raw()).is_err());
        let err = ShuffledBatches::new(&s, 6, LastBatch::Drop, 0, raw()).unwrap_err();
        assert!(err.to_string().contains("no full batch"), "{err}");
        let mut ok = ShuffledBatches::new(&s, 2, LastBatch::Drop, 0, raw()).unwrap();
        let err = ok.seek(BatchCursor { epoch: 0, batch: 2 }).unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
        let mut wrong = Batch::<u32>::for_split(3, &s);
        assert!(ok.next_into(&mut wrong).is_err());
        let mut other_size = Batch::<u32>::new(2, 3, 3);
        assert!(ok.next_into(&mut other_size).is_err());
        let mut buf = Batch::<u32>::for_split(2, &s);
        assert!(buf.fill(&s, &[0, 5], &raw()).is_err());
        assert!(fill_rows(&s, &[0, 1], &raw(), &mut [0.0; 11], &mut [0u32; 2]).is_err());
    }

    #[test]
    fn eval_batches_cover_the_split_in_order() {
        let s = split(23);
        let mut eval = EvalBatches::new(&s, 10, raw()).unwrap();
        assert_eq!(eval.num_batches(), 3);
        let mut buf = Batch::<f32>::for_split(10, &s);
        let mut seen = Vec::new();
        let mut starts = Vec::new();
        while let Some(start) = eval.next_into(&mut buf).unwrap() {
            starts.push(start);
            seen.extend(ids_f32(&buf));
        }
        assert_eq!(starts, vec![0, 10, 20]);
        assert_eq!(seen, (0..23).collect::<Vec<_>>());
        assert_eq!(buf.labels(), &[0.0, 1.0, 2.0]);
        eval.reset();
        assert_eq!(eval.next_into(&mut buf).unwrap(), Some(0));
    }

    fn ids_f32(batch: &Batch<f32>) -> Vec<u32> {
        batch.images().chunks(6).map(|r| r[0] as u32).collect()
    }

    #[test]
    fn fill_applies_the_pixel_map() {
        let s = split(3);
        let map = PixelMap::new(Normalize::Unit, &NormStats::mnist());
        let mut buf = Batch::<u32>::for_split(3, &s);
        buf.fill(&s, &[2, 0], &map).unwrap();
        assert_eq!(&buf.images()[..6], &[2.0 / 255.0; 6]);
        assert_eq!(&buf.images()[6..], &[0.0; 6]);
        assert_eq!(buf.labels(), &[2, 0]);
    }
}
