(* Networks (THEORY.md section 3, and the sets K(w) of section 4;
   FORMAL_PLAN.md "One expression language" and "Neurons as a list in
   topological order"): one expression language for pre-activations tau_k and
   the output g, with evaluation, symbolic partial derivatives w.r.t. a
   parameter and w.r.t. a neuron output; networks as a list of neurons
   (tau_k, sigma_k) in topological order; pre-activations y_k(w), outputs
   z_k(w) (z_k computed from z_0 .. z_(k-1) only) and f(w); exclusive affine
   parameters, perturbable neurons, bias networks, kink neurons. *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Activation.
Import ListNotations.
Open Scope R_scope.

(** * Expressions *)

Inductive expr : Type :=
  | EConst (r : R)
  | EParam (p : nat)
  | EInput (i : nat)
  | ENeuron (j : nat)
  | EAdd (e1 e2 : expr)
  | EMul (e1 e2 : expr).

Fixpoint eval (x : nat -> R) (w : vec) (z : nat -> R) (e : expr) : R :=
  match e with
  | EConst r => r
  | EParam p => w p
  | EInput i => x i
  | ENeuron j => z j
  | EAdd e1 e2 => eval x w z e1 + eval x w z e2
  | EMul e1 e2 => eval x w z e1 * eval x w z e2
  end.

(* symbolic partial derivative w.r.t. parameter p *)
Fixpoint dparam (p : nat) (e : expr) : expr :=
  match e with
  | EConst _ | EInput _ | ENeuron _ => EConst 0
  | EParam q => EConst (if Nat.eq_dec q p then 1 else 0)
  | EAdd e1 e2 => EAdd (dparam p e1) (dparam p e2)
  | EMul e1 e2 => EAdd (EMul (dparam p e1) e2) (EMul e1 (dparam p e2))
  end.

(* symbolic partial derivative w.r.t. the output z_j of neuron j *)
Fixpoint dneuron (j : nat) (e : expr) : expr :=
  match e with
  | EConst _ | EInput _ | EParam _ => EConst 0
  | ENeuron i => EConst (if Nat.eq_dec i j then 1 else 0)
  | EAdd e1 e2 => EAdd (dneuron j e1) (dneuron j e2)
  | EMul e1 e2 => EAdd (EMul (dneuron j e1) e2) (EMul e1 (dneuron j e2))
  end.

Fixpoint occurs_param (p : nat) (e : expr) : Prop :=
  match e with
  | EParam q => q = p
  | EAdd e1 e2 | EMul e1 e2 => occurs_param p e1 \/ occurs_param p e2
  | _ => False
  end.

Fixpoint occurs_neuron (j : nat) (e : expr) : Prop :=
  match e with
  | ENeuron i => i = j
  | EAdd e1 e2 | EMul e1 e2 => occurs_neuron j e1 \/ occurs_neuron j e2
  | _ => False
  end.

Definition neurons_below (k : nat) (e : expr) : Prop :=
  forall j, occurs_neuron j e -> (j < k)%nat.
Definition params_below (W : nat) (e : expr) : Prop :=
  forall p, occurs_param p e -> (p < W)%nat.

(** * Networks *)

Record network := mk_net {
  n_params : nat;                           (* W *)
  n_input : nat -> R;                       (* the fixed input x *)
  n_neurons : list (expr * activation);     (* (tau_k, sigma_k), topological order *)
  n_out : expr                              (* g *)
}.

Definition n_size (net : network) : nat := length (n_neurons net).
Definition tau (net : network) (k : nat) : expr := fst (nth k (n_neurons net) (EConst 0, act_id)).
Definition sigma (net : network) (k : nat) : activation :=
  snd (nth k (n_neurons net) (EConst 0, act_id)).

Definition wf (net : network) : Prop :=
  (forall k, (k < n_size net)%nat ->
     neurons_below k (tau net k) /\ params_below (n_params net) (tau net k)) /\
  neurons_below (n_size net) (n_out net) /\ params_below (n_params net) (n_out net).

(* outputs of neurons 0 .. n-1 (0 from n on); neuron n reads only these *)
Fixpoint zvals (net : network) (w : vec) (n : nat) : nat -> R :=
  match n with
  | O => fun _ => 0
  | S m => let zm := zvals net w m in
      fun j => if Nat.eq_dec j m
               then act_eval (sigma net m) (eval (n_input net) w zm (tau net m))
               else zm j
  end.

(* y_k(w) and z_k(w) *)
Definition preact (net : network) (w : vec) (k : nat) : R :=
  eval (n_input net) w (zvals net w k) (tau net k).
Definition post (net : network) (w : vec) (k : nat) : R :=
  act_eval (sigma net k) (preact net w k).

Definition zvec (net : network) (w : vec) : nat -> R := zvals net w (n_size net).

(* f(w) *)
Definition net_eval (net : network) (w : vec) : R :=
  eval (n_input net) w (zvec net w) (n_out net).

(** * Exclusive parameters, perturbable neurons, bias networks *)

(* p is exclusive to neuron k, with tau_k = a * w_p + r *)
Definition exclusive_param_with (net : network) (p k : nat) (a r : expr) : Prop :=
  (p < n_params net)%nat /\ (k < n_size net)%nat /\
  (forall j, (j < n_size net)%nat -> j <> k -> ~ occurs_param p (tau net j)) /\
  ~ occurs_param p (n_out net) /\
  ~ occurs_param p a /\ ~ occurs_param p r /\
  (forall w z, eval (n_input net) w z (tau net k) =
               eval (n_input net) w z a * w p + eval (n_input net) w z r).

Definition exclusive_param (net : network) (p k : nat) : Prop :=
  exists a r, exclusive_param_with net p k a r.

(* the coefficient a_k(w) *)
Definition excl_coeff (net : network) (w : vec) (k : nat) (a : expr) : R :=
  eval (n_input net) w (zvals net w k) a.

Definition perturbable (net : network) (w : vec) (k : nat) : Prop :=
  exists p a r, exclusive_param_with net p k a r /\ excl_coeff net w k a <> 0.

Definition bias_network (net : network) : Prop :=
  forall k, (k < n_size net)%nat -> exists p r, exclusive_param_with net p k (EConst 1) r.

(* K(w): neurons whose pre-activation is a kink of their activation *)
Definition kink_neurons (net : network) (w : vec) : list nat :=
  filter (fun k => if in_dec Req_EM_T (preact net w k) (kinks (sigma net k)) then true else false)
    (seq 0 (n_size net)).

(** * Expressions: basic facts *)

Section Expr.
Variable x : nat -> R.

Lemma eval_ext_param (w w' : vec) (z : nat -> R) (e : expr) :
  (forall p, occurs_param p e -> w p = w' p) -> eval x w z e = eval x w' z e.
Proof. induction e; simpl; intros H; auto; rewrite IHe1, IHe2; auto. Qed.

Lemma eval_ext_neuron (w : vec) (z z' : nat -> R) (e : expr) :
  (forall j, occurs_neuron j e -> z j = z' j) -> eval x w z e = eval x w z' e.
Proof. induction e; simpl; intros H; auto; rewrite IHe1, IHe2; auto. Qed.

Lemma eval_upd_not_occurs (w : vec) (z : nat -> R) (e : expr) (p : nat) (t : R) :
  ~ occurs_param p e -> eval x (upd w p t) z e = eval x w z e.
Proof.
  intros Hn; apply eval_ext_param; intros q Hq; unfold upd.
  destruct (Nat.eq_dec q p); [subst; tauto | reflexivity].
Qed.

Lemma dparam_not_occurs (w : vec) (z : nat -> R) (e : expr) (p : nat) :
  ~ occurs_param p e -> eval x w z (dparam p e) = 0.
Proof.
  induction e; simpl; intros Hn; try reflexivity.
  - destruct (Nat.eq_dec p0 p); [tauto | reflexivity].
  - rewrite IHe1, IHe2 by tauto; ring.
  - rewrite IHe1, IHe2 by tauto; ring.
Qed.

Lemma dneuron_not_occurs (w : vec) (z : nat -> R) (e : expr) (j : nat) :
  ~ occurs_neuron j e -> eval x w z (dneuron j e) = 0.
Proof.
  induction e; simpl; intros Hn; try reflexivity.
  - destruct (Nat.eq_dec j0 j); [tauto | reflexivity].
  - rewrite IHe1, IHe2 by tauto; ring.
  - rewrite IHe1, IHe2 by tauto; ring.
Qed.

End Expr.

Lemma nth_map_seq {A : Type} (f : nat -> A) (n k : nat) (d : A) :
  (k < n)%nat -> nth k (map f (seq 0 n)) d = f k.
Proof.
  intros Hk; rewrite (nth_indep _ d (f 0%nat)) by (rewrite map_length, seq_length; exact Hk).
  rewrite map_nth, seq_nth by exact Hk; reflexivity.
Qed.

(** * Forward evaluation *)

Lemma zvals_lt (net : network) (w : vec) (n j : nat) :
  (j < n)%nat -> zvals net w n j = post net w j.
Proof.
  induction n as [|m IH]; intros Hj; [lia|]; simpl.
  destruct (Nat.eq_dec j m) as [->|Hne]; [reflexivity|].
  apply IH; lia.
Qed.

Lemma zvals_ge (net : network) (w : vec) (n j : nat) :
  (n <= j)%nat -> zvals net w n j = 0.
Proof.
  induction n as [|m IH]; intros Hj; [reflexivity|]; simpl.
  destruct (Nat.eq_dec j m); [lia|]. apply IH; lia.
Qed.

Lemma zvec_lt (net : network) (w : vec) (j : nat) :
  (j < n_size net)%nat -> zvec net w j = post net w j.
Proof. apply zvals_lt. Qed.

(* in a well-formed network tau_k may as well read all outputs *)
Lemma preact_zvec (net : network) (w : vec) (k : nat) :
  wf net -> (k < n_size net)%nat ->
  preact net w k = eval (n_input net) w (zvec net w) (tau net k).
Proof.
  intros [Hwf _] Hk; unfold preact; apply eval_ext_neuron; intros j Hj.
  destruct (Hwf k Hk) as [Hb _]; specialize (Hb j Hj).
  rewrite zvals_lt, zvec_lt by lia; reflexivity.
Qed.

(* outputs below n only see the parameters of tau_0 .. tau_(n-1) *)
Lemma zvals_upd_not_occurs (net : network) (w : vec) (p : nat) (t : R) (n : nat) :
  (forall j, (j < n)%nat -> ~ occurs_param p (tau net j)) ->
  forall j, zvals net (upd w p t) n j = zvals net w n j.
Proof.
  induction n as [|m IH]; intros Hn j; [reflexivity|]; simpl.
  assert (Hm : forall j, (j < m)%nat -> ~ occurs_param p (tau net j)) by (intros; apply Hn; lia).
  destruct (Nat.eq_dec j m); [|apply IH; exact Hm].
  f_equal. rewrite eval_upd_not_occurs by (apply Hn; lia).
  apply eval_ext_neuron; intros; apply IH; exact Hm.
Qed.

(** * Exclusive parameters *)

Lemma exclusive_zvals_upd (net : network) (p k : nat) (a r : expr) (w : vec) (t : R) :
  exclusive_param_with net p k a r ->
  forall j, zvals net (upd w p t) k j = zvals net w k j.
Proof.
  intros (_ & Hk & Hj & _); apply zvals_upd_not_occurs.
  intros j Hjk; apply Hj; lia.
Qed.

Lemma exclusive_post_before (net : network) (p k : nat) (a r : expr) (w : vec) (t : R) (j : nat) :
  exclusive_param_with net p k a r -> (j < k)%nat ->
  post net (upd w p t) j = post net w j.
Proof.
  intros He Hj; rewrite <- !(zvals_lt net _ k j Hj).
  eapply exclusive_zvals_upd; eauto.
Qed.

Lemma exclusive_coeff_upd (net : network) (p k : nat) (a r : expr) (w : vec) (t : R) :
  exclusive_param_with net p k a r -> excl_coeff net (upd w p t) k a = excl_coeff net w k a.
Proof.
  intros He; unfold excl_coeff.
  rewrite eval_upd_not_occurs by apply He.
  apply eval_ext_neuron; intros; eapply exclusive_zvals_upd; eauto.
Qed.

(* y_k(w + t e_p) as an affine function of the new value t *)
Lemma exclusive_param_preact_affine (net : network) (p k : nat) (a r : expr) (w : vec) (t : R) :
  exclusive_param_with net p k a r ->
  preact net (upd w p t) k =
    excl_coeff net w k a * t + eval (n_input net) w (zvals net w k) r.
Proof.
  intros He; unfold preact, excl_coeff.
  assert (Hz : forall j, zvals net (upd w p t) k j = zvals net w k j)
    by (eapply exclusive_zvals_upd; exact He).
  destruct He as (Hp & Hk & Hj & Hg & Ha & Hr & Heq).
  rewrite Heq, !eval_upd_not_occurs by assumption.
  rewrite (eval_ext_neuron _ _ _ _ a (fun j _ => Hz j)),
    (eval_ext_neuron _ _ _ _ r (fun j _ => Hz j)).
  unfold upd; destruct (Nat.eq_dec p p); [reflexivity | congruence].
Qed.

Lemma upd_same (w : vec) (p : nat) : forall i, upd w p (w p) i = w i.
Proof. intros i; unfold upd; destruct (Nat.eq_dec i p); subst; reflexivity. Qed.

Lemma preact_ext (net : network) (w w' : vec) (k : nat) :
  (forall i, w i = w' i) -> preact net w k = preact net w' k.
Proof.
  intros H.
  assert (Hz : forall n j, zvals net w n j = zvals net w' n j).
  { induction n as [|m IH]; intros j; [reflexivity|]; simpl.
    destruct (Nat.eq_dec j m); [|apply IH]. f_equal.
    rewrite (eval_ext_neuron _ _ _ _ _ (fun j _ => IH j)).
    apply eval_ext_param; auto. }
  unfold preact; rewrite (eval_ext_neuron _ _ _ _ _ (fun j _ => Hz k j)).
  apply eval_ext_param; auto.
Qed.

Lemma exclusive_param_preact_rest (net : network) (p k : nat) (a r : expr) (w : vec) :
  exclusive_param_with net p k a r ->
  preact net w k = excl_coeff net w k a * w p + eval (n_input net) w (zvals net w k) r.
Proof.
  intros He; rewrite <- (exclusive_param_preact_affine net p k a r w (w p) He).
  apply preact_ext; intros i; symmetry; apply upd_same.
Qed.

(* key lemma for counting: with coefficient 1, y_k(w + t e_p) = t + rest,
   the rest not depending on w_p *)
Lemma exclusive_param_preact (net : network) (p k : nat) (r : expr) (w : vec) (t : R) :
  exclusive_param_with net p k (EConst 1) r ->
  preact net (upd w p t) k = t + (preact net w k - w p).
Proof.
  intros He; rewrite (exclusive_param_preact_affine net p k _ r w t He),
    (exclusive_param_preact_rest net p k _ r w He).
  unfold excl_coeff; simpl; ring.
Qed.

(* the rest y_k - w_p does not depend on w_p *)
Lemma exclusive_param_rest_upd (net : network) (p k : nat) (r : expr) (w : vec) (t : R) :
  exclusive_param_with net p k (EConst 1) r ->
  preact net (upd w p t) k - upd w p t p = preact net w k - w p.
Proof.
  intros He; rewrite (exclusive_param_preact net p k r w t He).
  unfold upd; destruct (Nat.eq_dec p p); [ring | congruence].
Qed.

Lemma exclusive_param_preact_shift (net : network) (p k : nat) (r : expr) (w : vec) (t t' : R) :
  exclusive_param_with net p k (EConst 1) r ->
  preact net (upd w p t) k - t = preact net (upd w p t') k - t'.
Proof.
  intros He; rewrite !(exclusive_param_preact net p k r w _ He); ring.
Qed.

(* at most one value of an exclusive bias puts y_k at a given point c *)
Lemma exclusive_param_preact_unique (net : network) (p k : nat) (r : expr) (w : vec) (c t t' : R) :
  exclusive_param_with net p k (EConst 1) r ->
  preact net (upd w p t) k = c -> preact net (upd w p t') k = c -> t = t'.
Proof.
  intros He H1 H2; rewrite !(exclusive_param_preact net p k r w _ He) in *; lra.
Qed.

Lemma exclusive_post_upd_before (net : network) (p k : nat) (r : expr) (w : vec) (t : R) (j : nat) :
  exclusive_param_with net p k (EConst 1) r -> (j < k)%nat ->
  post net (upd w p t) j = post net w j.
Proof. apply exclusive_post_before. Qed.

(* a bias belongs to one neuron only *)
Lemma bias_param_unique (net : network) (p k k' : nat) (r r' : expr) :
  exclusive_param_with net p k (EConst 1) r ->
  exclusive_param_with net p k' (EConst 1) r' -> k = k'.
Proof.
  intros He He'; destruct (Nat.eq_dec k k') as [|Hne]; [assumption|exfalso].
  destruct He as (Hp & Hk & Hj & Hg & Ha & Hr & Heq).
  destruct He' as (_ & Hk' & Hj' & _).
  assert (Hn : ~ occurs_param p (tau net k)) by (apply Hj'; auto).
  set (z := fun _ : nat => 0); set (w := fun _ : nat => 0).
  generalize (Heq (upd w p 0) z) (Heq (upd w p 1) z).
  rewrite !eval_upd_not_occurs by assumption.
  unfold upd; destruct (Nat.eq_dec p p); [simpl; lra | congruence].
Qed.

Lemma bias_network_perturbable (net : network) (w : vec) (k : nat) :
  bias_network net -> (k < n_size net)%nat -> perturbable net w k.
Proof.
  intros Hb Hk; destruct (Hb k Hk) as [p [r He]].
  exists p, (EConst 1), r; split; [exact He|]; unfold excl_coeff; simpl; lra.
Qed.

(** * Kink neurons *)

Lemma kink_neurons_spec (net : network) (w : vec) (k : nat) :
  In k (kink_neurons net w) <-> (k < n_size net)%nat /\ is_kink (sigma net k) (preact net w k).
Proof.
  unfold kink_neurons; rewrite filter_In, in_seq, <- kinks_spec.
  destruct (in_dec Req_EM_T (preact net w k) (kinks (sigma net k))); intuition (try lia; congruence).
Qed.

Lemma kink_neurons_NoDup (net : network) (w : vec) : NoDup (kink_neurons net w).
Proof. apply NoDup_filter, seq_NoDup. Qed.
