(* T6 for smooth pre-activations (THEORY.md section 8.1, T6, with the tau_k
   of section 3 any C1 functions; issue 18, items 1 and 3): the batch of
   SmoothTiedBatch.v exists for every base.  A C1 function f of
   (w, z_base) on R^(W+N) composed with the block selection
   [batch_sel W N i] (i < B) is a C1 function of (w, z) on R^(W+B N)
   ([c1_batch_sel]); its gradient is the pull-back of f's ([batch_pull]):
   df/dw_p at the parameters p < W, df/dz_j at z_(iN+j) for j < N, 0
   elsewhere.  [st_batch W B N btau bsig out] is the smooth-tau network whose
   neuron c = i N + k has activation bsig k and pre-activation
   btau i k o batch_sel W N i, with the C1 output out; it is the batch of
   the base ([st_batch_is_batch_of]).  The base-bias condition of
   SmoothTiedBatch.v for it is a condition on btau and bsig alone
   ([st_base_bias]), so T6 holds for the built batch with hypotheses on the
   base only ([st_T6_batch_built_ad_correct]). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal C1Output C1Algebra
  Batch T6Correct SmoothTau SmoothTiedBatch.
Import ListNotations.
Open Scope R_scope.

(** * Sums over a split range *)

Lemma dot_split W M g h :
  dot (W + M) g h = dot W g h + dot M (fun j => g (W + j)%nat) (fun j => h (W + j)%nat).
Proof.
  induction M as [|M IH]; [rewrite Nat.add_0_r, dot_0; ring|].
  rewrite Nat.add_succ_r, !dot_S, IH; ring.
Qed.

Lemma dot_zero_coefs n g h : (forall j, (j < n)%nat -> g j = 0) -> dot n g h = 0.
Proof. intros H; rewrite (dot_ext n g vzero h h) by (exact H || reflexivity); apply dot_vzero_l. Qed.

(** * The block selection is linear and 1-Lipschitz *)

Lemma batch_sel_vadd W N i u h :
  batch_sel W N i (vadd u h) = vadd (batch_sel W N i u) (batch_sel W N i h).
Proof.
  apply functional_extensionality; intros q; unfold batch_sel, pack, vadd.
  destruct (lt_dec q W); [reflexivity|]; destruct (lt_dec (q - W) N); [reflexivity | ring].
Qed.

Lemma batch_sel_supported W N i h : supported (W + N) (batch_sel W N i h).
Proof.
  intros q Hq; unfold batch_sel, pack.
  destruct (lt_dec q W); [lia|]; destruct (lt_dec (q - W) N); [lia | reflexivity].
Qed.

Lemma batch_sel_norm W B N i h : (i < B)%nat ->
  norm_max (W + N) (batch_sel W N i h) <= norm_max (W + B * N) h.
Proof.
  intros Hi; apply norm_max_le; [apply norm_max_nonneg|]; intros q Hq; unfold batch_sel, pack.
  destruct (lt_dec q W); [apply norm_max_coord; lia|].
  destruct (lt_dec (q - W) N); [apply norm_max_coord; nia|].
  rewrite Rabs_R0; apply norm_max_nonneg.
Qed.

(** * The pull-back of a gradient on R^(W+N) to R^(W+B N) *)

(* d_p at p < W, d_(W+j) at W + i N + j for j < N, 0 elsewhere *)
Definition batch_pull (W N i : nat) (d : vec) : vec :=
  pack W d (fun j => if lt_dec j (i * N) then 0
                     else if lt_dec (j - i * N) N then d (W + (j - i * N))%nat else 0).

Lemma batch_pull_param W N i d p : (p < W)%nat -> batch_pull W N i d p = d p.
Proof. apply pack_lt. Qed.

Lemma batch_pull_block W N i d j : (j < N)%nat -> batch_pull W N i d (W + (i * N + j))%nat = d (W + j)%nat.
Proof.
  intros Hj; unfold batch_pull; rewrite pack_ge.
  destruct (lt_dec (i * N + j) (i * N)); [lia|].
  destruct (lt_dec (i * N + j - i * N) N); [|lia]; do 2 f_equal; lia.
Qed.

Lemma batch_pull_other W N i d j : (j < i * N \/ i * N + N <= j)%nat -> batch_pull W N i d (W + j)%nat = 0.
Proof.
  intros Hj; unfold batch_pull; rewrite pack_ge.
  destruct (lt_dec j (i * N)); [reflexivity|]; destruct (lt_dec (j - i * N) N); [lia | reflexivity].
Qed.

(* the chain rule for the linear map batch_sel: d . sel h = pull d . h *)
Lemma dot_batch_pull W B N i d h : (i < B)%nat ->
  dot (W + B * N) (batch_pull W N i d) h = dot (W + N) d (batch_sel W N i h).
Proof.
  intros Hi; unfold batch_sel; rewrite dot_split, dot_pack_r.
  rewrite (dot_ext W (batch_pull W N i d) d h h) by (intros; (apply batch_pull_param; assumption) || reflexivity).
  f_equal.
  replace (B * N)%nat with (i * N + (N + (B - S i) * N))%nat by nia; rewrite !dot_split.
  rewrite dot_zero_coefs by (intros j Hj; apply batch_pull_other; lia).
  rewrite (dot_zero_coefs ((B - S i) * N)) by (intros j Hj; apply batch_pull_other; lia).
  rewrite Rplus_0_l, Rplus_0_r; apply dot_ext; intros j Hj.
  - apply batch_pull_block, Hj.
  - destruct (lt_dec j N); [reflexivity | lia].
Qed.

(** * f o batch_sel is C1 *)

Section BatchSel.
Variables (W B N i : nat) (Hi : (i < B)%nat) (f : c1_output W N).

Lemma continuous_at_batch_sel (phi : vec -> R) u :
  continuous_at (W + N) phi (batch_sel W N i u) ->
  continuous_at (W + B * N) (fun v => phi (batch_sel W N i v)) u.
Proof.
  intros H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros h _ Hn; rewrite batch_sel_vadd; apply K; [apply batch_sel_supported|].
  eapply Rle_lt_trans; [apply batch_sel_norm, Hi | exact Hn].
Qed.

Lemma c1_batch_sel_diff u :
  differentiable_at (W + B * N) (fun v => c1_g f (batch_sel W N i v)) u
    (batch_pull W N i (c1_dg f (batch_sel W N i u))).
Proof.
  set (u0 := batch_sel W N i u).
  set (E := fun k => c1_g f (vadd u0 k) - c1_g f u0 - dot (W + N) (c1_dg f u0) k).
  assert (HE : small_o (W + N) E) by exact (c1_diff _ _ f u0).
  apply differentiable_at_small_o, (small_o_ext _ (fun h => E (batch_sel W N i h))).
  - intros h _; unfold E, u0; rewrite batch_sel_vadd, dot_batch_pull by exact Hi; reflexivity.
  - apply (small_o_comp_vec (W + B * N) (W + N) E (batch_sel W N i) 1 1 HE ltac:(lra) ltac:(lra)).
    intros h _ _; split; [apply batch_sel_supported | rewrite Rmult_1_l; apply batch_sel_norm, Hi].
Qed.

Lemma c1_batch_sel_cont u q :
  continuous_at (W + B * N) (fun v => batch_pull W N i (c1_dg f (batch_sel W N i v)) q) u.
Proof.
  unfold batch_pull, pack; destruct (lt_dec q W);
    [|destruct (lt_dec (q - W) (i * N)); [|destruct (lt_dec (q - W - i * N) N)]];
    try apply continuous_at_const;
    apply (continuous_at_batch_sel (fun x => c1_dg f x _)), c1_cont.
Qed.

Definition c1_batch_sel : c1_output W (B * N) :=
  mk_c1_output W (B * N) (fun v => c1_g f (batch_sel W N i v))
    (fun v => batch_pull W N i (c1_dg f (batch_sel W N i v))) c1_batch_sel_diff c1_batch_sel_cont.

End BatchSel.

(** * The batched network of a base *)

(* neuron c: btau (c / N) (c mod N) o batch_sel, the constant 0 when c / N >= B *)
Definition st_batch_tau (W B N : nat) (btau : nat -> nat -> c1_output W N) (c : nat) : c1_output W (B * N) :=
  match lt_dec (c / N) B with
  | left H => c1_batch_sel W B N (c / N) H (btau (c / N)%nat (c mod N)%nat)
  | right _ => c1_const W (B * N) 0
  end.

Definition st_batch (W B N : nat) (btau : nat -> nat -> c1_output W N) (bsig : nat -> activation)
  (out : c1_output W (B * N)) : st_network :=
  mk_st_network W (B * N) (st_batch_tau W B N btau) (fun c => bsig (c mod N)%nat) out.

Lemma st_batch_tau_g W B N btau i k u : (i < B)%nat -> (k < N)%nat ->
  c1_g (st_batch_tau W B N btau (i * N + k)) u = c1_g (btau i k) (batch_sel W N i u).
Proof.
  intros Hi Hk; unfold st_batch_tau; destruct (lt_dec ((i * N + k) / N) B) as [H|H];
    [|rewrite copy_div in H by exact Hk; lia].
  simpl; rewrite copy_div, copy_mod by exact Hk; reflexivity.
Qed.

Lemma st_batch_tau_dg W B N btau i k u : (i < B)%nat -> (k < N)%nat ->
  c1_dg (st_batch_tau W B N btau (i * N + k)) u = batch_pull W N i (c1_dg (btau i k) (batch_sel W N i u)).
Proof.
  intros Hi Hk; unfold st_batch_tau; destruct (lt_dec ((i * N + k) / N) B) as [H|H];
    [|rewrite copy_div in H by exact Hk; lia].
  simpl; rewrite copy_div, copy_mod by exact Hk; reflexivity.
Qed.

(* st_W (st_batch W B N btau bsig out) is W by computation *)
Theorem st_batch_is_batch_of W B N btau bsig out :
  st_batch_of (st_batch W B N btau bsig out) B N btau bsig.
Proof.
  split; [reflexivity|]; intros i k Hi Hk; split.
  - simpl; rewrite copy_mod by exact Hk; reflexivity.
  - intros u; apply st_batch_tau_g; assumption.
Qed.

(** * The base-bias condition on the base alone *)

(* every kinked base neuron k has a parameter b_k entering every btau i k
   with coefficient 1 and no btau i j, j <> k *)
Definition st_base_bias (W B N : nat) (btau : nat -> nat -> c1_output W N) (bsig : nat -> activation) : Prop :=
  forall k, (k < N)%nat -> kinks (bsig k) <> [] -> exists p, (p < W)%nat /\
    forall i, (i < B)%nat ->
      (forall u t, c1_g (btau i k) (upd u p t) = c1_g (btau i k) u + (t - u p)) /\
      (forall j, (j < N)%nat -> j <> k -> forall u t, c1_g (btau i j) (upd u p t) = c1_g (btau i j) u).

Lemma st_batch_bias_iff_base W B N btau bsig out :
  st_batch_bias (st_batch W B N btau bsig out) B N btau bsig <-> st_base_bias W B N btau bsig.
Proof. split; intros H; exact H. Qed.

(* T6 over smooth pre-activations for the built batch *)
Theorem st_T6_batch_built_ad_correct (W B N : nat) (btau : nat -> nat -> c1_output W N)
  (bsig : nat -> activation) (out : c1_output W (B * N)) (Dk : nat -> R -> R) (w g : vec) :
  st_base_bias W B N btau bsig ->
  (forall k, (k < N)%nat -> theta_uniform (bsig k) (Dk k)) ->
  let sn := st_batch W B N btau bsig out in
  differentiable_at W (st_eval sn) w g ->
  forall p, (p < W)%nat -> st_ad sn (fun c => Dk (c mod N) (st_preact sn w c)) w p = g p.
Proof.
  intros Hb Hu sn.
  apply (st_T6_batch_ad_correct sn B N btau bsig Dk w g (st_batch_is_batch_of W B N btau bsig out)); [|exact Hu].
  apply st_batch_bias_iff_base, Hb.
Qed.
