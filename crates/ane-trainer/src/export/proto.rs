//! The subset of Core ML's protobuf schema an ML Program package needs, as prost messages.
//!
//! Written by hand from Apple's published schema files `Model.proto`, `FeatureTypes.proto` and
//! `MIL.proto` (coremltools `mlmodel/format/`, BSD-3-Clause, © Apple Inc.; see NOTICE.md), with
//! the field numbers and names of those files, so no `protoc` runs at build time. Only the
//! messages, fields and oneof variants an exporter of one-function ML Programs uses are declared;
//! prost skips unknown fields when decoding, so a package written by another tool still parses
//! as long as it is an ML Program.
//!
//! Messages keep the schema's names (`Model`, `ModelDescription`, …) in the Rust style; the
//! schema's packages are `CoreML.Specification` (model, features) and
//! `CoreML.Specification.MILSpec` (the program).

use std::collections::HashMap;

/// `CoreML.Specification.Model`: the root message of `model.mlmodel`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Model {
    /// 7 (iOS16) … 9 (iOS18); see `DeploymentTarget`.
    #[prost(int32, tag = "1")]
    pub specification_version: i32,
    /// Inputs, outputs and metadata.
    #[prost(message, optional, tag = "2")]
    pub description: Option<ModelDescription>,
    /// Always false: ML Programs cannot be updated on device.
    #[prost(bool, tag = "10")]
    pub is_updatable: bool,
    /// The model type (`oneof Type`); only `mlProgram` is declared here.
    #[prost(oneof = "ModelType", tags = "502")]
    pub r#type: Option<ModelType>,
}

/// `Model.Type`: what kind of model this is.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ModelType {
    /// `mlProgram = 502`.
    #[prost(message, tag = "502")]
    MlProgram(Program),
}

/// `ModelDescription`: the model's interface and metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelDescription {
    /// Input features, named like the `main` function's inputs.
    #[prost(message, repeated, tag = "1")]
    pub input: Vec<FeatureDescription>,
    /// Output features, named like the `main` block's outputs.
    #[prost(message, repeated, tag = "10")]
    pub output: Vec<FeatureDescription>,
    /// Classifiers: the output holding the predicted label.
    #[prost(string, tag = "11")]
    pub predicted_feature_name: String,
    /// Classifiers: the output holding the label → probability dictionary.
    #[prost(string, tag = "12")]
    pub predicted_probabilities_name: String,
    /// Author, licence, version and user-defined entries.
    #[prost(message, optional, tag = "100")]
    pub metadata: Option<Metadata>,
}

/// `Metadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metadata {
    /// One-line description.
    #[prost(string, tag = "1")]
    pub short_description: String,
    /// The model's version.
    #[prost(string, tag = "2")]
    pub version_string: String,
    /// Who made it.
    #[prost(string, tag = "3")]
    pub author: String,
    /// Its licence.
    #[prost(string, tag = "4")]
    pub license: String,
    /// Free-form entries (training settings, source checkpoint, …).
    #[prost(map = "string, string", tag = "100")]
    pub user_defined: HashMap<String, String>,
}

/// `FeatureDescription`: one named input or output.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FeatureDescription {
    /// The feature name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// What it holds, shown in Xcode.
    #[prost(string, tag = "2")]
    pub short_description: String,
    /// Its type.
    #[prost(message, optional, tag = "3")]
    pub r#type: Option<FeatureType>,
}

/// `FeatureType`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FeatureType {
    /// The kind of feature (`oneof Type`).
    #[prost(oneof = "FeatureKind", tags = "1, 2, 3, 4, 5, 6")]
    pub r#type: Option<FeatureKind>,
    /// Whether the feature may be absent.
    #[prost(bool, tag = "1000")]
    pub is_optional: bool,
}

/// `FeatureType.Type`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum FeatureKind {
    /// `int64Type = 1`.
    #[prost(message, tag = "1")]
    Int64(Empty),
    /// `doubleType = 2`.
    #[prost(message, tag = "2")]
    Double(Empty),
    /// `stringType = 3`.
    #[prost(message, tag = "3")]
    String(Empty),
    /// `imageType = 4`.
    #[prost(message, tag = "4")]
    Image(ImageFeatureType),
    /// `multiArrayType = 5`.
    #[prost(message, tag = "5")]
    MultiArray(ArrayFeatureType),
    /// `dictionaryType = 6`.
    #[prost(message, tag = "6")]
    Dictionary(DictionaryFeatureType),
}

/// The field-less messages `Int64FeatureType`, `DoubleFeatureType` and `StringFeatureType`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Empty {}

/// `ImageFeatureType` (fixed size only).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImageFeatureType {
    /// Width in pixels.
    #[prost(int64, tag = "1")]
    pub width: i64,
    /// Height in pixels.
    #[prost(int64, tag = "2")]
    pub height: i64,
    /// `ColorSpace`: 10 = GRAYSCALE, 20 = RGB, 30 = BGR, 40 = GRAYSCALE_FLOAT16.
    #[prost(int32, tag = "3")]
    pub color_space: i32,
}

/// `ImageFeatureType.ColorSpace.GRAYSCALE` (8 bits per pixel).
pub const COLOR_SPACE_GRAYSCALE: i32 = 10;

/// `ArrayFeatureType`: a multi-array of fixed shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ArrayFeatureType {
    /// The shape.
    #[prost(int64, repeated, tag = "1")]
    pub shape: Vec<i64>,
    /// `ArrayDataType`, see the `ARRAY_*` constants.
    #[prost(int32, tag = "2")]
    pub data_type: i32,
}

/// `ArrayDataType.FLOAT32`.
pub const ARRAY_FLOAT32: i32 = 65568;
/// `ArrayDataType.FLOAT16` (specification version 7 and later).
pub const ARRAY_FLOAT16: i32 = 65552;
/// `ArrayDataType.INT32`.
pub const ARRAY_INT32: i32 = 131104;

/// `DictionaryFeatureType` (values are doubles).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DictionaryFeatureType {
    /// The key type (`oneof KeyType`).
    #[prost(oneof = "DictionaryKey", tags = "1, 2")]
    pub key_type: Option<DictionaryKey>,
}

/// `DictionaryFeatureType.KeyType`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DictionaryKey {
    /// `int64KeyType = 1`.
    #[prost(message, tag = "1")]
    Int64(Empty),
    /// `stringKeyType = 2`.
    #[prost(message, tag = "2")]
    String(Empty),
}

// ---- MIL.proto (package CoreML.Specification.MILSpec) ----

/// `MILSpec.Program`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Program {
    /// Must be 1.
    #[prost(int64, tag = "1")]
    pub version: i64,
    /// Functions by name (`main`).
    #[prost(map = "string, message", tag = "2")]
    pub functions: HashMap<String, Function>,
    /// Left empty (coremltools refuses to load a program with one).
    #[prost(string, tag = "3")]
    pub doc_string: String,
    /// Program attributes: only `buildInfo`.
    #[prost(map = "string, message", tag = "4")]
    pub attributes: HashMap<String, Value>,
}

/// `MILSpec.Function`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    /// Typed inputs.
    #[prost(message, repeated, tag = "1")]
    pub inputs: Vec<NamedValueType>,
    /// `CoreML6` … `CoreML8`.
    #[prost(string, tag = "2")]
    pub opset: String,
    /// The body, keyed by opset.
    #[prost(map = "string, message", tag = "3")]
    pub block_specializations: HashMap<String, Block>,
    /// Left empty.
    #[prost(map = "string, message", tag = "4")]
    pub attributes: HashMap<String, Value>,
}

/// `MILSpec.Block`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Block {
    /// Only for nested blocks.
    #[prost(message, repeated, tag = "1")]
    pub inputs: Vec<NamedValueType>,
    /// Names of the values the block returns.
    #[prost(string, repeated, tag = "2")]
    pub outputs: Vec<String>,
    /// Topologically sorted operations.
    #[prost(message, repeated, tag = "3")]
    pub operations: Vec<Operation>,
    /// Left empty.
    #[prost(map = "string, message", tag = "4")]
    pub attributes: HashMap<String, Value>,
}

/// `MILSpec.Argument`: one or more bindings (several for tuple parameters such as `concat`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Argument {
    /// The bindings.
    #[prost(message, repeated, tag = "1")]
    pub arguments: Vec<Binding>,
}

/// `MILSpec.Argument.Binding`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Binding {
    /// A value name or an inline value (`oneof binding`).
    #[prost(oneof = "BindingKind", tags = "1, 2")]
    pub binding: Option<BindingKind>,
}

/// `Argument.Binding.binding`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum BindingKind {
    /// `name = 1`: a value defined earlier.
    #[prost(string, tag = "1")]
    Name(String),
    /// `value = 2`: an inline literal.
    #[prost(message, tag = "2")]
    Value(Value),
}

/// `MILSpec.Operation`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Operation {
    /// The op type (`linear`, `const`, …).
    #[prost(string, tag = "1")]
    pub r#type: String,
    /// Named inputs.
    #[prost(map = "string, message", tag = "2")]
    pub inputs: HashMap<String, Argument>,
    /// Typed outputs.
    #[prost(message, repeated, tag = "3")]
    pub outputs: Vec<NamedValueType>,
    /// `name` for every op, `val` for `const`.
    #[prost(map = "string, message", tag = "5")]
    pub attributes: HashMap<String, Value>,
}

/// `MILSpec.NamedValueType`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamedValueType {
    /// The name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<ValueType>,
}

/// `MILSpec.ValueType`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueType {
    /// Which type (`oneof type`).
    #[prost(oneof = "ValueTypeKind", tags = "1, 2, 4")]
    pub r#type: Option<ValueTypeKind>,
}

/// `ValueType.type`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueTypeKind {
    /// `tensorType = 1` (rank 0 is a scalar).
    #[prost(message, tag = "1")]
    Tensor(TensorType),
    /// `listType = 2`.
    #[prost(message, tag = "2")]
    List(Box<ListType>),
    /// `dictionaryType = 4`.
    #[prost(message, tag = "4")]
    Dictionary(Box<DictionaryType>),
}

/// `MILSpec.DataType` values used here.
pub mod data_type {
    /// BOOL.
    pub const BOOL: i32 = 1;
    /// STRING.
    pub const STRING: i32 = 2;
    /// FLOAT16.
    pub const FLOAT16: i32 = 10;
    /// FLOAT32.
    pub const FLOAT32: i32 = 11;
    /// FLOAT64.
    pub const FLOAT64: i32 = 12;
    /// INT8.
    pub const INT8: i32 = 21;
    /// INT16.
    pub const INT16: i32 = 22;
    /// INT32.
    pub const INT32: i32 = 23;
    /// INT64.
    pub const INT64: i32 = 24;
    /// UINT8.
    pub const UINT8: i32 = 31;
    /// UINT16.
    pub const UINT16: i32 = 32;
    /// UINT64.
    pub const UINT64: i32 = 34;
}

/// `MILSpec.TensorType`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorType {
    /// `DataType` (see [`data_type`]).
    #[prost(int32, tag = "1")]
    pub data_type: i32,
    /// The rank (0: scalar).
    #[prost(int64, tag = "2")]
    pub rank: i64,
    /// One entry per axis.
    #[prost(message, repeated, tag = "3")]
    pub dimensions: Vec<Dimension>,
}

/// `MILSpec.ListType`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListType {
    /// The element type.
    #[prost(message, optional, boxed, tag = "1")]
    pub r#type: Option<Box<ValueType>>,
    /// The length.
    #[prost(message, optional, tag = "2")]
    pub length: Option<Dimension>,
}

/// `MILSpec.DictionaryType`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DictionaryType {
    /// The key type.
    #[prost(message, optional, boxed, tag = "1")]
    pub key_type: Option<Box<ValueType>>,
    /// The value type.
    #[prost(message, optional, boxed, tag = "2")]
    pub value_type: Option<Box<ValueType>>,
}

/// `MILSpec.Dimension`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dimension {
    /// Known or unknown (`oneof dimension`).
    #[prost(oneof = "DimensionKind", tags = "1, 2")]
    pub dimension: Option<DimensionKind>,
}

/// `Dimension.dimension`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DimensionKind {
    /// `constant = 1`.
    #[prost(message, tag = "1")]
    Constant(ConstantDimension),
    /// `unknown = 2`.
    #[prost(message, tag = "2")]
    Unknown(UnknownDimension),
}

/// `Dimension.ConstantDimension`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConstantDimension {
    /// The size.
    #[prost(uint64, tag = "1")]
    pub size: u64,
}

/// `Dimension.UnknownDimension`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UnknownDimension {
    /// Whether it stands for any number of axes.
    #[prost(bool, tag = "1")]
    pub variadic: bool,
}

/// `MILSpec.Value`: a typed literal, inline or in a weight file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    /// Left empty.
    #[prost(string, tag = "1")]
    pub doc_string: String,
    /// The value's type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<ValueType>,
    /// Where the data is (`oneof value`).
    #[prost(oneof = "ValueKind", tags = "3, 5")]
    pub value: Option<ValueKind>,
}

/// `Value.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueKind {
    /// `immediateValue = 3`.
    #[prost(message, tag = "3")]
    Immediate(ImmediateValue),
    /// `blobFileValue = 5`.
    #[prost(message, tag = "5")]
    BlobFile(BlobFileValue),
}

/// `Value.ImmediateValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImmediateValue {
    /// Which literal (`oneof value`).
    #[prost(oneof = "ImmediateKind", tags = "1, 3, 4")]
    pub value: Option<ImmediateKind>,
}

/// `ImmediateValue.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ImmediateKind {
    /// `tensor = 1`.
    #[prost(message, tag = "1")]
    Tensor(TensorValue),
    /// `list = 3`.
    #[prost(message, tag = "3")]
    List(ListValue),
    /// `dictionary = 4`.
    #[prost(message, tag = "4")]
    Dictionary(DictionaryValue),
}

/// `Value.BlobFileValue`: a tensor in a weight file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlobFileValue {
    /// `@model_path/weights/weight.bin`.
    #[prost(string, tag = "1")]
    pub file_name: String,
    /// Offset of the blob's metadata record.
    #[prost(uint64, tag = "2")]
    pub offset: u64,
}

/// `MILSpec.TensorValue`: the elements of an inline tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorValue {
    /// The element storage (`oneof value`).
    #[prost(oneof = "TensorValueKind", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<TensorValueKind>,
}

/// `TensorValue.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum TensorValueKind {
    /// `floats = 1` (fp32).
    #[prost(message, tag = "1")]
    Floats(RepeatedFloats),
    /// `ints = 2` (int32, int16, uint16).
    #[prost(message, tag = "2")]
    Ints(RepeatedInts),
    /// `bools = 3`.
    #[prost(message, tag = "3")]
    Bools(RepeatedBools),
    /// `strings = 4`.
    #[prost(message, tag = "4")]
    Strings(RepeatedStrings),
    /// `longInts = 5` (int64, uint64).
    #[prost(message, tag = "5")]
    LongInts(RepeatedLongInts),
    /// `doubles = 6` (fp64).
    #[prost(message, tag = "6")]
    Doubles(RepeatedDoubles),
    /// `bytes = 7` (fp16, int8, uint8 as raw little-endian elements).
    #[prost(message, tag = "7")]
    Bytes(RepeatedBytes),
}

/// `TensorValue.RepeatedFloats`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedFloats {
    /// Elements.
    #[prost(float, repeated, tag = "1")]
    pub values: Vec<f32>,
}

/// `TensorValue.RepeatedDoubles`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedDoubles {
    /// Elements.
    #[prost(double, repeated, tag = "1")]
    pub values: Vec<f64>,
}

/// `TensorValue.RepeatedInts`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedInts {
    /// Elements.
    #[prost(int32, repeated, tag = "1")]
    pub values: Vec<i32>,
}

/// `TensorValue.RepeatedLongInts`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedLongInts {
    /// Elements.
    #[prost(int64, repeated, tag = "1")]
    pub values: Vec<i64>,
}

/// `TensorValue.RepeatedBools`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedBools {
    /// Elements.
    #[prost(bool, repeated, tag = "1")]
    pub values: Vec<bool>,
}

/// `TensorValue.RepeatedStrings`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedStrings {
    /// Elements (UTF-8).
    #[prost(string, repeated, tag = "1")]
    pub values: Vec<String>,
}

/// `TensorValue.RepeatedBytes`: one blob of raw element bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RepeatedBytes {
    /// The bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub values: Vec<u8>,
}

/// `MILSpec.ListValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListValue {
    /// Elements.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<Value>,
}

/// `MILSpec.DictionaryValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DictionaryValue {
    /// Entries.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<KeyValuePair>,
}

/// `DictionaryValue.KeyValuePair`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValuePair {
    /// The key.
    #[prost(message, optional, tag = "1")]
    pub key: Option<Value>,
    /// The value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<Value>,
}
