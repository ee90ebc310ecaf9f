//! A set of one table's columns, for reads that select only what a selection needs
//! (`post_columns`, `user_columns`): bit `i` stands for the table's `ORDER[i]`, the order
//! a read selects its columns in and decodes them by position.
use std::{fmt, hash::Hash, marker::PhantomData};

/// A table's columns in a fixed order.
pub trait Ordered: Copy + 'static {
    /// Every column, in the order reads select them.
    const ORDER: &'static [Self];
    /// The column's position in `ORDER`.
    fn position(self) -> usize;
}

/// A set of `C` columns.
pub struct Set<C> {
    bits: u16,
    _columns: PhantomData<C>,
}

impl<C: Ordered> Set<C> {
    /// Every column.
    pub const ALL: Self = Self::from_bits(((1u32 << C::ORDER.len()) - 1) as u16);

    /// The set whose bit `i` stands for `ORDER[i]`.
    pub const fn from_bits(bits: u16) -> Self {
        Set {
            bits,
            _columns: PhantomData,
        }
    }

    fn bit(column: C) -> u16 {
        1 << column.position()
    }

    /// This set and `column`.
    #[must_use]
    pub fn with(self, column: C) -> Self {
        Self::from_bits(self.bits | Self::bit(column))
    }

    /// This set without `column`, keeping `required`.
    #[must_use]
    pub fn without_keeping(self, column: C, required: Self) -> Self {
        Self::from_bits((self.bits & !Self::bit(column)) | required.bits)
    }

    pub fn contains(self, column: C) -> bool {
        self.bits & Self::bit(column) != 0
    }

    /// The columns of the set, in `ORDER` (the positions reads decode them at).
    pub fn iter(self) -> impl Iterator<Item = C> {
        C::ORDER
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.bits & (1 << i) != 0)
            .map(|(_, c)| *c)
    }

    /// How many columns a read of this set selects.
    pub fn len(self) -> usize {
        self.bits.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// Where the set's columns sit in a row read with it, the first at `first`.
    pub fn positions(self, first: usize) -> Positions<C> {
        Positions {
            set: self,
            next: first,
        }
    }
}

/// The positions of a set's columns in a row, handed out in `ORDER`.
pub struct Positions<C> {
    set: Set<C>,
    next: usize,
}

impl<C: Ordered> Positions<C> {
    /// The position of `column` if the set has it. Columns must be asked for in `ORDER`
    /// (each one the set has moves the next position on).
    pub fn take(&mut self, column: C) -> Option<usize> {
        let read = self.set.contains(column);
        let at = self.next;
        self.next += usize::from(read);
        read.then_some(at)
    }
}

// Derived impls would require `C` itself to be `Clone`, `Eq`, `Hash`…: the set is a `u16`.
impl<C> Clone for Set<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Set<C> {}

impl<C> PartialEq for Set<C> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<C> Eq for Set<C> {}

impl<C> Hash for Set<C> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}

impl<C> fmt::Debug for Set<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Set({:#b})", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{post, user};

    fn positions_follow_order<C: Ordered + fmt::Debug>() {
        assert!(C::ORDER.len() <= 16, "a set is a u16");
        for (i, column) in C::ORDER.iter().enumerate() {
            assert_eq!(column.position(), i, "{column:?}");
        }
    }

    /// Each table's `position` agrees with its `ORDER`: a set's bits, its `iter` and the
    /// decoders' positions are the same columns.
    #[test]
    fn every_column_sits_at_its_position() {
        positions_follow_order::<post::Column>();
        positions_follow_order::<user::Column>();
        let set = Set::<post::Column>::from_bits(0)
            .with(post::Column::Title)
            .with(post::Column::Id);
        assert_eq!(set.iter().map(Ordered::position).collect::<Vec<_>>(), [0, 3]);
        assert_eq!(Set::<user::Column>::ALL.len(), user::Column::ORDER.len());
    }
}
